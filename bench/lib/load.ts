// Closed-loop load: many senders, each with its own nonce sequence and at most `window` transactions
// submitted but not yet seen committed. Sender i submits to endpoint i mod E (so its nonces arrive
// in order at one node). The transactions made ready in one event-loop turn for one endpoint go out
// as one JSON-RPC batch of at most `batch` tx_send calls, over one WebSocket per endpoint (default) or
// as an HTTP POST (`submit: 'http'`, fetch). A commit is the tx id appearing in a newBlock
// notification of the watched node; then the sender's next transaction is released. Submit time is
// when the batch carrying the tx is sent.
//
// Why WebSocket by default: the load generator shares the 2 cores with the validators it measures,
// and fetch (undici: a Request, WHATWG streams and an AbortSignal per call) took ≈ 40 µs of client CPU
// per submitted tx; a JSON batch on an open WebSocket takes a fraction of that (BENCHMARKS.md).
import { RpcClient, RpcError, type NewBlockEvent } from '../../rpc/client.js';
import type { PresignedTx } from './presign.js';

export interface BlockSeen {
  height: number;
  /** Header time (the proposer's clock when it built the block), ms since the epoch. */
  time: number;
  /** When the notification reached this process, ms since the epoch (sub-ms precision). */
  seenAt: number;
  txs: number;
}

export interface CommitSeen {
  sentAt: number;
  seenAt: number;
}

export interface ClosedLoopOptions {
  /** RPC URLs transactions are submitted to. */
  endpoints: string[];
  /** RPC URL of the node whose newBlock stream marks commits. */
  watch: string;
  /** Presigned transactions per sender, nonces 0, 1, … */
  txs: PresignedTx[][];
  window: number;
  batch: number;
  /** How batches travel: one WebSocket per endpoint (default) or an HTTP POST each. */
  submit?: 'ws' | 'http';
  /** A tx the node refused (other than "already pending") is submitted again after this long. */
  retryMs?: number;
  /** A sender whose oldest pending tx is this old resubmits its pending txs (one dropped by a node would stall it). */
  resubmitAfterMs?: number;
}

interface Sender {
  endpoint: number;
  /** Lowest nonce not yet seen committed. */
  base: number;
  /** Next nonce to submit. */
  next: number;
}

interface Pending {
  sender: number;
  nonce: number;
  /** First submission (latency is measured from here, also for a tx submitted again). */
  sentAt: number;
  lastSubmitAt: number;
}

/** Wall clock with sub-millisecond precision, comparable with the nodes' Date.now(). */
export const now = (): number => performance.timeOrigin + performance.now();

const ALREADY_PENDING = new Set(['TX_DUPLICATE', 'TX_NONCE_TAKEN']);

export class ClosedLoop {
  readonly blocks: BlockSeen[] = [];
  readonly commits: CommitSeen[] = [];
  /** Refusals and transport failures by code (refused txs are retried). */
  readonly errors = new Map<string, number>();
  submitted = 0;
  requests = 0;
  resubmits = 0;
  private readonly senders: Sender[];
  private readonly pending = new Map<string, Pending>();
  private readonly queues: { sender: number; nonce: number }[][];
  private readonly flushScheduled: boolean[];
  private running = false;
  private stopped = false;
  private watcher: RpcClient | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextId = 1;
  /** One client per endpoint: its WebSocket carries the submission batches (RpcClient.sendTxs). */
  private readonly clients: RpcClient[];

  constructor(private readonly o: ClosedLoopOptions) {
    this.senders = o.txs.map((_, i) => ({ endpoint: i % o.endpoints.length, base: 0, next: 0 }));
    this.queues = o.endpoints.map(() => []);
    this.flushScheduled = o.endpoints.map(() => false);
    this.clients = o.endpoints.map((url) => new RpcClient(url, { timeoutMs: 30_000 }));
  }

  /** Senders that have no presigned transaction left to submit. */
  get exhausted(): number {
    return this.senders.filter((s, i) => s.next >= this.o.txs[i]!.length).length;
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** Starts recording blocks (no load yet): blocks seen before start() show the idle chain. */
  async watchBlocks(): Promise<void> {
    if (!this.watcher) await this.watch();
  }

  /** Starts the load (and the block watch, if not yet). */
  async start(): Promise<void> {
    await this.watchBlocks();
    this.running = true;
    for (let i = 0; i < this.senders.length; i++) this.refill(i);
    const after = this.o.resubmitAfterMs ?? 60_000;
    this.sweeper = setInterval(() => this.sweep(after), Math.max(1000, after / 3));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.unsubscribe?.().catch(() => undefined);
    await this.watcher?.close();
    await Promise.all(this.clients.map((c) => c.close()));
  }

  private count(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  private async watch(): Promise<void> {
    this.watcher = new RpcClient(this.o.watch, { timeoutMs: 30_000 });
    this.unsubscribe = await this.watcher.subscribeNewBlocks(
      (ev) => this.onBlock(ev),
      () => {
        if (this.stopped) return;
        this.count('WATCH_DROPPED');
        void this.watcher?.close().then(() => this.watch()).catch(() => this.count('WATCH_RESUBSCRIBE_FAILED'));
      },
    );
  }

  private onBlock(ev: NewBlockEvent): void {
    const seenAt = now();
    this.blocks.push({ height: ev.height, time: ev.time, seenAt, txs: ev.txs.length });
    const touched = new Set<number>();
    for (const id of ev.txs) {
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      this.commits.push({ sentAt: p.sentAt, seenAt });
      const s = this.senders[p.sender]!;
      // nonces commit in order: anything below this one is committed too (a missed notification)
      for (let n = s.base; n < p.nonce; n++) this.pending.delete(this.o.txs[p.sender]![n]!.idHex);
      if (p.nonce + 1 > s.base) s.base = p.nonce + 1;
      touched.add(p.sender);
    }
    for (const i of touched) this.refill(i);
  }

  /** Submits the sender's next transactions while fewer than `window` are pending. */
  private refill(i: number): void {
    if (!this.running) return;
    const s = this.senders[i]!;
    const txs = this.o.txs[i]!;
    while (s.next - s.base < this.o.window && s.next < txs.length) this.enqueue(i, s.next++);
  }

  private enqueue(sender: number, nonce: number): void {
    const e = this.senders[sender]!.endpoint;
    this.queues[e]!.push({ sender, nonce });
    if (!this.flushScheduled[e]) {
      this.flushScheduled[e] = true;
      setImmediate(() => this.flush(e));
    }
  }

  private flush(e: number): void {
    this.flushScheduled[e] = false;
    const q = this.queues[e]!;
    while (q.length > 0 && this.running) void this.post(e, q.splice(0, this.o.batch));
  }

  private async post(e: number, items: { sender: number; nonce: number }[]): Promise<void> {
    const sentAt = now();
    const hexes = items.map((it) => {
      const tx = this.o.txs[it.sender]![it.nonce]!;
      const p = this.pending.get(tx.idHex);
      if (p) p.lastSubmitAt = sentAt;
      else this.pending.set(tx.idHex, { sender: it.sender, nonce: it.nonce, sentAt, lastSubmitAt: sentAt });
      return tx.hex;
    });
    this.submitted += items.length;
    this.requests++;
    const codes = this.o.submit === 'http' ? await this.postHttp(e, hexes) : await this.postWs(e, hexes);
    if (!this.running) return;
    const again: { sender: number; nonce: number }[] = [];
    items.forEach((it, k) => {
      const code = codes[k];
      if (code === undefined) return;
      this.count(code);
      if (!ALREADY_PENDING.has(code)) again.push(it);
    });
    if (again.length > 0) this.retry(again);
  }

  /** One batch over the endpoint's WebSocket; per tx, undefined (admitted) or the refusal's code. */
  private async postWs(e: number, hexes: string[]): Promise<(string | undefined)[]> {
    const outcomes = await this.clients[e]!.sendTxs(hexes);
    return outcomes.map((o) => (o.status === 'fulfilled' ? undefined : codeOf(o.reason)));
  }

  /** One batch as an HTTP POST through fetch; per tx, undefined (admitted) or the refusal's code. */
  private async postHttp(e: number, hexes: string[]): Promise<(string | undefined)[]> {
    const reqs = hexes.map((tx) => ({ jsonrpc: '2.0', id: this.nextId++, method: 'tx_send', params: { tx } }));
    let answers: unknown;
    try {
      const res = await fetch(this.o.endpoints[e]!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(reqs.length === 1 ? reqs[0] : reqs),
        signal: AbortSignal.timeout(30_000),
      });
      answers = await res.json();
    } catch (err) {
      return reqs.map(() => codeOf(err));
    }
    const byId = new Map<number, Record<string, unknown>>();
    for (const a of Array.isArray(answers) ? answers : [answers]) {
      if (typeof a === 'object' && a !== null && typeof (a as { id?: unknown }).id === 'number') byId.set((a as { id: number }).id, a as Record<string, unknown>);
    }
    return reqs.map((r) => {
      const a = byId.get(r.id);
      if (a === undefined) return 'NO_ANSWER';
      const err = a.error as { code?: number; data?: { code?: unknown } } | undefined;
      if (err === undefined) return undefined;
      return typeof err.data?.code === 'string' ? err.data.code : `RPC ${String(err.code)}`;
    });
  }

  private retry(items: { sender: number; nonce: number }[]): void {
    if (!this.running) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      for (const it of items) {
        // still not committed? (a commit may have been seen meanwhile)
        if (it.nonce >= this.senders[it.sender]!.base) this.enqueue(it.sender, it.nonce);
      }
    }, this.o.retryMs ?? 200);
    this.timers.add(t);
  }

  /** Resubmits the pending txs of senders stuck for longer than `after` ms. */
  private sweep(after: number): void {
    const t = now();
    for (const [i, s] of this.senders.entries()) {
      if (s.next === s.base) continue;
      const oldest = this.pending.get(this.o.txs[i]![s.base]!.idHex);
      if (oldest && t - oldest.lastSubmitAt > after) {
        this.resubmits++;
        for (let n = s.base; n < s.next; n++) this.enqueue(i, n);
      }
    }
  }
}

/** A refusal's code (the node's own, e.g. TX_NONCE_TAKEN), or TRANSPORT … when the batch got no answer. */
function codeOf(err: unknown): string {
  if (err instanceof RpcError) return err.appCode ?? `RPC ${err.code}`;
  return `TRANSPORT ${err instanceof Error ? err.name : 'error'}`;
}
