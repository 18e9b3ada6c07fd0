// The mempool: admitted transactions waiting for a block (issue 2 item 8).
// Admission: the application's checkTx (decode, chain id, signature, minimum fee, unused nonce,
// balance covers the fee), then a nonce window, dedup by hash, one tx per (sender, nonce) unless a
// higher fee replaces it, and byte/count caps with eviction of the cheapest tail transaction.
// Reaping takes, per sender, the contiguous run of nonces from the committed nonce, round robin.
import { InvalidMessageError, ERR } from '../lib/errors.js';
import type { DecodedTx } from '../state/tx.js';
import { bytesKey } from '../lib/hex.js';
import { MinHeap } from '../lib/minHeap.js';

export interface MempoolOptions {
  /** Application admission check against committed state (throws InvalidMessageError). */
  checkTx(raw: Uint8Array): DecodedTx;
  /** Committed next nonce of an address. */
  nonceOf(sender: Uint8Array): number;
  maxTxs?: number;
  maxBytes?: number;
  /** A tx may be at most this many nonces ahead of the committed nonce. */
  nonceWindow?: number;
}

interface Entry {
  tx: DecodedTx;
  seq: number;
}

export class Mempool {
  private readonly byId = new Map<string, Entry>();
  /** sender hex → its highest-nonce entry (the only one eviction may take: it leaves no gap) */
  private readonly tails = new Map<string, Entry>();
  /**
   * Tails, cheapest first (lowest fee, then newest). Lazy: an entry that stopped being a tail or
   * left the pool stays until it reaches the top, and is skipped then; rebuilt from `tails` when
   * stale entries outnumber live ones. (Eviction scanned every entry of the pool, per admission
   * once the pool was full: 157 µs per refused tx at 20,000 txs, more than verifying it.)
   */
  private readonly cheap = new MinHeap<Entry>((a, b) => a.tx.body.fee < b.tx.body.fee || (a.tx.body.fee === b.tx.body.fee && a.seq > b.seq));
  /** sender hex → nonce → entry */
  private readonly bySender = new Map<string, Map<number, Entry>>();
  private bytes = 0;
  private seq = 0;
  private admittedCount = 0;
  readonly maxTxs: number;
  readonly maxBytes: number;
  readonly nonceWindow: number;

  constructor(private readonly opts: MempoolOptions) {
    this.maxTxs = opts.maxTxs ?? 20_000;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.nonceWindow = opts.nonceWindow ?? 256;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Transactions admitted so far (a replacement by a higher fee counts; refusals do not). Only grows. */
  get admitted(): number {
    return this.admittedCount;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  has(idHex: string): boolean {
    return this.byId.has(idHex);
  }

  /** Admits a raw transaction or throws an InvalidMessageError with a specific code. */
  add(raw: Uint8Array): DecodedTx {
    const tx = this.opts.checkTx(raw);
    if (this.byId.has(tx.idHex)) throw new InvalidMessageError(ERR.DUPLICATE, `transaction ${tx.idHex} is already in the mempool`);
    const committed = this.opts.nonceOf(tx.sender);
    if (tx.body.nonce >= committed + this.nonceWindow) {
      throw new InvalidMessageError(ERR.BAD_NONCE, `nonce ${tx.body.nonce} is too far ahead (next is ${committed}, window ${this.nonceWindow})`);
    }
    const mine = this.bySender.get(tx.senderHex);
    const existing = mine?.get(tx.body.nonce);
    if (existing) {
      if (tx.body.fee <= existing.tx.body.fee) {
        throw new InvalidMessageError('TX_NONCE_TAKEN', `nonce ${tx.body.nonce} of this sender is already pending; replace it only with a higher fee`);
      }
      this.remove(existing);
    }
    while (this.byId.size >= this.maxTxs || this.bytes + raw.length > this.maxBytes) {
      const victim = this.cheapestTail();
      if (!victim || victim.tx.body.fee >= tx.body.fee) {
        throw new InvalidMessageError(ERR.MEMPOOL_FULL, `mempool is full (${this.byId.size} txs, ${this.bytes} bytes); offer a higher fee or retry later`);
      }
      this.remove(victim);
    }
    const e: Entry = { tx, seq: this.seq++ };
    this.byId.set(tx.idHex, e);
    let m = this.bySender.get(tx.senderHex);
    if (!m) this.bySender.set(tx.senderHex, (m = new Map()));
    m.set(tx.body.nonce, e);
    this.bytes += raw.length;
    const tail = this.tails.get(tx.senderHex);
    if (!tail || tx.body.nonce > tail.tx.body.nonce) this.setTail(e);
    this.admittedCount++;
    return tx;
  }

  /** The lowest-fee transaction that is the highest nonce of its sender (evicting it leaves no gap); newest first among equal fees. */
  private cheapestTail(): Entry | undefined {
    for (let e = this.cheap.peek(); e !== undefined; e = this.cheap.peek()) {
      if (this.tails.get(e.tx.senderHex) === e) return e;
      this.cheap.pop(); // no longer a tail, or gone
    }
    return undefined;
  }

  private setTail(e: Entry): void {
    this.tails.set(e.tx.senderHex, e);
    this.cheap.push(e);
    if (this.cheap.size > 2 * this.tails.size + 1024) this.cheap.reset(this.tails.values());
  }

  private remove(e: Entry): void {
    this.byId.delete(e.tx.idHex);
    const m = this.bySender.get(e.tx.senderHex);
    m?.delete(e.tx.body.nonce);
    if (m && m.size === 0) this.bySender.delete(e.tx.senderHex);
    this.bytes -= e.tx.raw.length;
    if (this.tails.get(e.tx.senderHex) === e) {
      let top: Entry | undefined;
      if (m) for (const x of m.values()) if (!top || x.tx.body.nonce > top.tx.body.nonce) top = x; // ≤ nonceWindow entries
      if (top) this.setTail(top);
      else this.tails.delete(e.tx.senderHex);
    }
  }

  /**
   * Transactions for the next block: for each sender (oldest first) the contiguous nonces starting
   * at the committed nonce, interleaved round robin, up to `maxTxs` and `maxBytes`.
   */
  reap(maxTxs: number, maxBytes: number): Uint8Array[] {
    const queues: Entry[][] = [];
    for (const m of this.bySender.values()) {
      const first = m.values().next().value as Entry | undefined;
      if (!first) continue;
      let n = this.opts.nonceOf(first.tx.sender);
      const q: Entry[] = [];
      for (let e = m.get(n); e; e = m.get(++n)) q.push(e);
      if (q.length) queues.push(q);
    }
    queues.sort((a, b) => a[0]!.seq - b[0]!.seq);
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (let round = 0; out.length < maxTxs; round++) {
      let any = false;
      for (const q of queues) {
        const e = q[round];
        if (!e) continue;
        any = true;
        if (out.length >= maxTxs || bytes + e.tx.raw.length > maxBytes) return out;
        out.push(e.tx.raw);
        bytes += e.tx.raw.length;
      }
      if (!any) break;
    }
    return out;
  }

  /**
   * Removes these transactions (by their exact bytes) if present, through one index of the pool by
   * bytes built per call: O(pool + dropped). It scanned the pool per dropped tx, and a sender can
   * make a block drop hundreds of txs at no cost (fees no longer covered after its first tx spent the
   * balance), which against a full pool blocked the proposer for seconds. Most proposals drop
   * nothing, so the pool keeps no index by bytes object either (two Map writes per admitted tx).
   */
  drop(raws: Uint8Array[]): void {
    if (raws.length === 0) return;
    const byBytes = new Map([...this.byId.values()].map((x) => [bytesKey(x.tx.raw), x]));
    for (const raw of raws) {
      const e = byBytes.get(bytesKey(raw));
      if (e !== undefined && this.byId.get(e.tx.idHex) === e) this.remove(e);
    }
  }

  /** After a commit: drop the committed txs (ids as 0x-hex) and every tx whose nonce is now used. */
  update(committedIdsHex: string[], touchedSenders?: Iterable<Uint8Array>): void {
    const senders = new Map<string, Uint8Array>();
    for (const id of committedIdsHex) {
      const e = this.byId.get(id);
      if (e) {
        senders.set(e.tx.senderHex, e.tx.sender);
        this.remove(e);
      }
    }
    for (const s of touchedSenders ?? []) senders.set('0x' + Buffer.from(s).toString('hex'), s);
    for (const [hex, sender] of senders) {
      const m = this.bySender.get(hex);
      if (!m) continue;
      const next = this.opts.nonceOf(sender);
      for (const e of [...m.values()]) if (e.tx.body.nonce < next) this.remove(e);
    }
  }
}
