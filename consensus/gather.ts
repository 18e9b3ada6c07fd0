// How long a primary that has transactions waits before it builds its block (PbftDriver.propose).
// A client that sends its next transaction when it sees its last one committed (a closed loop, as
// IoT gateways and bench/pbft.ts do) sends it right after a commit, and it reaches the next primary
// some tens of ms later: RPC admission at one validator, gossip, admission at the primary. A short
// fixed delay proposes before that burst has arrived, so it waits a whole extra round and each
// block holds only about half of the transactions in flight (BENCHMARKS.md, session 9). So the
// primary waits for as long as transactions keep arriving: it stops once none has come for
// `stepMs` (and never before `stepMs`), once a full block is ready, once as many transactions have
// arrived since the last commit as that block held (`enough`: the burst is in, no quiet time is
// waited out), or after `maxMs`. Nothing arriving (an idle chain, a lone transaction) costs one
// step, as a fixed delay did. The driver bounds `maxMs` by the last round's duration as well, so
// that a steady trickle, which never pauses for a step, delays a block by at most about one
// (short, unloaded) round.
import type { TxSource } from './txSource.js';

export interface GatherOptions {
  txs: Pick<TxSource, 'size' | 'admitted'>;
  /** The least it waits (unless `enough` is reached first), and the quiet time that ends the gathering (≤ 0: no wait at all). */
  stepMs: number;
  /** How often it looks at the mempool (default and at most: `stepMs`). */
  tickMs?: number;
  /** The most it waits in all (at least one step). */
  maxMs: number;
  /** A block is full at this many transactions: no point in waiting for more. */
  fullAt: number;
  /**
   * Stop once `txs.admitted` reaches this: the driver sets it to as many transactions as the block
   * just committed held, counted from that commit (the burst a commit releases is about that size,
   * and in a steady stream so is what one block interval brings).
   */
  enough?: number;
  sleep(ms: number): Promise<void>;
  /** False once the proposal is moot (the driver stopped, or moved to another height or view). */
  live(): boolean;
}

/** Waits as described above; resolves with the milliseconds waited. */
export async function gatherTxs(o: GatherOptions): Promise<number> {
  if (!(o.stepMs > 0)) return 0;
  const max = Math.max(o.stepMs, o.maxMs);
  const tick = Math.min(o.stepMs, Math.max(1, o.tickMs ?? o.stepMs));
  let waited = 0;
  let lastArrival = 0; // when (in ms waited) an arrival was last seen
  let seen = o.txs.admitted;
  for (;;) {
    const t = Math.min(tick, max - waited);
    await o.sleep(t);
    waited += t;
    const admitted = o.txs.admitted;
    if (admitted !== seen) {
      seen = admitted;
      lastArrival = waited;
    }
    if (waited >= max || !o.live() || o.txs.size >= o.fullAt) return waited;
    if (o.enough !== undefined && admitted >= o.enough) return waited;
    if (waited >= o.stepMs && waited - lastArrival >= o.stepMs) return waited;
  }
}

/** What the driver knows when it proposes (consensus/driver.ts). */
export interface GatherContext {
  view: number;
  /** `blockDelayMs`. */
  stepMs: number;
  blockDelayMaxMs: number | undefined;
  /** The last committed round here, header time → commit (ms; 0 before the first). */
  lastRoundMs: number;
  /** `txs.admitted` when that block was committed, and how many txs it held. */
  admittedAtCommit: number;
  lastBlockTxs: number;
}

/**
 * The timing part of GatherOptions: look every quarter step; stop once as many txs arrived since
 * the last commit as that block held (not after an empty block: nothing to go by); at view 0 wait
 * at most `blockDelayMaxMs` and no longer than the last round took (at least one step), after a
 * view change, when the round is already late, one step.
 */
export function gatherPlan(c: GatherContext): Pick<GatherOptions, 'stepMs' | 'tickMs' | 'maxMs' | 'enough'> {
  return {
    stepMs: c.stepMs,
    tickMs: Math.max(1, Math.floor(c.stepMs / 4)),
    maxMs: gatherLimitMs(c.view, c.stepMs, c.blockDelayMaxMs, c.lastRoundMs),
    ...(c.lastBlockTxs > 0 ? { enough: c.admittedAtCommit + c.lastBlockTxs } : {}),
  };
}

/**
 * The most a primary gathers at (height, view): at view 0, `blockDelayMaxMs` but no longer than the
 * last round took (at least one step); after a view change, when the round is already late, one step.
 */
export function gatherLimitMs(view: number, stepMs: number, blockDelayMaxMs: number | undefined, lastRoundMs: number): number {
  if (view > 0) return stepMs;
  return Math.min(blockDelayMaxMs ?? stepMs, Math.max(stepMs, lastRoundMs));
}
