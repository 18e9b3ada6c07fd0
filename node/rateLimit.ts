// Per-peer budgets for what a peer may make this node do: token buckets over messages and bytes,
// refilled continuously, one pair per peer. Pure bookkeeping with an injected clock; p2p.ts drops
// (and scores down) what exceeds a budget before decoding or verifying it. Honest traffic stays far
// below the defaults (node/README.md gives the figures), so a peer that exceeds one is flooding.

export interface Budget {
  /** Messages (requests, frames) per second, sustained. */
  messagesPerSecond: number;
  /** Most messages at once after a quiet spell. */
  messageBurst: number;
  /** Bytes per second, sustained. */
  bytesPerSecond: number;
  /** Most bytes at once after a quiet spell; at least one largest message. */
  byteBurst: number;
}

interface Bucket {
  messages: number;
  bytes: number;
  at: number;
}

export interface PeerBudgetsOptions {
  /** Most peers tracked; peers whose buckets are full again are forgotten first. Default 10,000. */
  maxPeers?: number;
  now?: () => number;
}

export class PeerBudgets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxPeers: number;
  private readonly now: () => number;

  constructor(
    readonly budget: Budget,
    opts: PeerBudgetsOptions = {},
  ) {
    for (const k of ['messagesPerSecond', 'messageBurst', 'bytesPerSecond', 'byteBurst'] as const) {
      if (!(budget[k] > 0) || !Number.isFinite(budget[k])) throw new RangeError(`budget ${k} must be a positive finite number`);
    }
    this.maxPeers = opts.maxPeers ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Charges `peer` one message of `bytes` bytes. True if its budget covers it (and it is spent);
   * false if not, and then nothing is spent: a refused message costs the peer its budget no further.
   */
  take(peer: string, bytes: number): boolean {
    const t = this.now();
    let b = this.buckets.get(peer);
    if (b === undefined) {
      this.prune(t);
      b = { messages: this.budget.messageBurst, bytes: this.budget.byteBurst, at: t };
      this.buckets.set(peer, b);
    } else {
      this.refill(b, t);
    }
    if (b.messages < 1 || b.bytes < bytes) return false;
    b.messages -= 1;
    b.bytes -= bytes;
    return true;
  }

  /**
   * Charges `peer` `bytes` after the fact (what serving a request turned out to cost), whether or not
   * its budget covers them: the balance may go below zero, and `take` refuses until it has refilled.
   */
  charge(peer: string, bytes: number): void {
    const t = this.now();
    const b = this.buckets.get(peer);
    if (b === undefined) return; // forgotten since its `take` (table full): nothing to charge
    this.refill(b, t);
    b.bytes -= bytes;
  }

  /** Number of peers tracked (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(b: Bucket, t: number): void {
    const s = Math.max(0, t - b.at) / 1000;
    b.messages = Math.min(this.budget.messageBurst, b.messages + s * this.budget.messagesPerSecond);
    b.bytes = Math.min(this.budget.byteBurst, b.bytes + s * this.budget.bytesPerSecond);
    b.at = t;
  }

  /** Keeps the table bounded: forgets peers whose buckets are full again, then (still full) the oldest. */
  private prune(t: number): void {
    if (this.buckets.size < this.maxPeers) return;
    for (const [peer, b] of this.buckets) {
      this.refill(b, t);
      if (b.messages >= this.budget.messageBurst && b.bytes >= this.budget.byteBurst) this.buckets.delete(peer);
    }
    for (const peer of this.buckets.keys()) {
      if (this.buckets.size < this.maxPeers) break;
      this.buckets.delete(peer);
    }
  }
}
