// Transaction gossip in batches. One gossipsub message per transaction cost more CPU than the
// transaction itself (protobuf, yamux frame, Noise encryption and a socket write per peer per tx:
// bench/pbft.ts --profile put libp2p at ~37 % of validator CPU at 4 validators), so txs submitted
// to a node are collected for a few milliseconds and published as one message: the canonical
// msgpack list of the raw signed txs (lib/encoding.ts; non-canonical or oversize lists are refused).
import { bytes, decode, encode, list, readBytesList, type Codec } from '../lib/encoding.js';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { copyBytes } from '../lib/hex.js';

export interface TxBatchLimits {
  /** Largest single transaction (bytes). */
  maxTxBytes: number;
  /** Most transactions in one batch. */
  maxTxs: number;
  /** Flush once the batch's txs reach this many bytes. */
  maxBytes: number;
}

/**
 * 20 ms: at 4 validators under load a 5 ms batch held 2–3 txs, and the per-message cost (protobuf,
 * yamux, Noise, a socket write per peer) was paid that often. 20 ms batches gave ≈ 8 % less validator
 * CPU per tx in back-to-back pairs (BENCHMARKS.md, session 4; of the size of this VM's noise). A tx
 * waits at most this long before its first relay; the node that admitted it can propose it at once.
 */
export const DEFAULT_TX_BATCH: { maxTxs: number; maxBytes: number; delayMs: number } = { maxTxs: 1024, maxBytes: 512 * 1024, delayMs: 20 };

/** Upper bound of an encoded batch: the txs plus msgpack headers (≤ 5 bytes each, 5 for the list). */
export function maxBatchBytes(l: TxBatchLimits): number {
  return l.maxBytes + l.maxTxBytes + 5 * (l.maxTxs + 1);
}

const codecs = new Map<string, Codec<Uint8Array[]>>();
function batchCodec(l: TxBatchLimits): Codec<Uint8Array[]> {
  const k = `${l.maxTxBytes}/${l.maxTxs}`;
  let c = codecs.get(k);
  if (!c) codecs.set(k, (c = list(bytes(l.maxTxBytes), l.maxTxs)));
  return c;
}

export function encodeTxBatch(txs: Uint8Array[], l: TxBatchLimits): Uint8Array {
  return encode(batchCodec(l), txs);
}

/** Decodes a batch; InvalidMessageError if it is not a canonical list of 1..maxTxs non-empty txs. */
export function decodeTxBatch(data: Uint8Array, l: TxBatchLimits): Uint8Array[] {
  // the canonical form read directly (lib/encoding.ts readBytesList); anything else through the codec
  const fast = data.length <= maxBatchBytes(l) ? readBytesList(data, 0, l.maxTxs, l.maxTxBytes) : undefined;
  const txs = fast !== undefined && fast[1] === data.length ? fast[0] : decode(batchCodec(l), data, 'tx batch', maxBatchBytes(l));
  if (txs.length === 0) throw new InvalidMessageError(ERR.ENCODING, 'tx batch: no transactions');
  if (txs.some((t) => t.length === 0)) throw new InvalidMessageError(ERR.ENCODING, 'tx batch: an empty transaction');
  // copies, so that a tx kept in the mempool does not keep the whole batch buffer alive; from Buffer's
  // pool (lib/hex.ts copyBytes), not an ArrayBuffer per tx
  return txs.map(copyBytes);
}

/**
 * Collects txs and hands them to `publish` as one batch: after `delayMs` from the first tx of a
 * batch, or at once when the batch reaches `maxTxs` or `maxBytes`. `add` resolves when its batch
 * has been published (or rejects with the publish error). `schedule` is injectable for tests.
 */
export class TxBatcher {
  private txs: Uint8Array[] = [];
  private bytes = 0;
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private cancel: (() => void) | undefined;

  constructor(
    private readonly o: {
      limits: TxBatchLimits;
      delayMs: number;
      publish: (batch: Uint8Array) => Promise<void>;
      schedule?: (fn: () => void, ms: number) => () => void;
    },
  ) {}

  get pending(): number {
    return this.txs.length;
  }

  add(raw: Uint8Array): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.txs.push(raw);
    this.bytes += raw.length;
    if (this.txs.length >= this.o.limits.maxTxs || this.bytes >= this.o.limits.maxBytes) this.flush();
    else if (this.cancel === undefined) this.cancel = (this.o.schedule ?? defaultSchedule)(() => this.flush(), this.o.delayMs);
    return done;
  }

  /** Publishes what is collected now (no-op when empty). */
  flush(): void {
    this.cancel?.();
    this.cancel = undefined;
    if (this.txs.length === 0) return;
    const txs = this.txs;
    const waiters = this.waiters;
    this.txs = [];
    this.bytes = 0;
    this.waiters = [];
    let p: Promise<void>;
    try {
      p = this.o.publish(encodeTxBatch(txs, this.o.limits));
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      () => waiters.forEach((w) => w.resolve()),
      (e: unknown) => waiters.forEach((w) => w.reject(e)),
    );
  }

  /** Drops what is collected; pending `add`s reject with `reason`. */
  close(reason: Error): void {
    this.cancel?.();
    this.cancel = undefined;
    const waiters = this.waiters;
    this.txs = [];
    this.bytes = 0;
    this.waiters = [];
    waiters.forEach((w) => w.reject(reason));
  }
}

function defaultSchedule(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}
