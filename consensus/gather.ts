// How long a primary that has transactions waits before it builds its block (PbftDriver.propose).
// A client that sends its next transaction when it sees its last one committed (a closed loop, as
// IoT gateways and bench/pbft.ts do) sends it right after a commit, and it reaches the next primary
// some tens of ms later: RPC admission at one validator, gossip, admission at the primary. A short
// fixed delay proposes before that burst has arrived, so it waits a whole extra round and each
// block holds only about half of the transactions in flight (BENCHMARKS.md, session 9). So the
// primary waits `stepMs`, then another step for as long as transactions kept arriving during the
// last one, `maxMs` in all at most, and stops early once a full block is ready. Nothing arriving
// (an idle chain, a lone transaction) costs one step, as a fixed delay did. The driver bounds
// `maxMs` by the last round's duration as well, so that a steady trickle, which never pauses for a
// step, delays a block by at most about one (short, unloaded) round.
import type { TxSource } from './txSource.js';

export interface GatherOptions {
  txs: Pick<TxSource, 'size' | 'admitted'>;
  /** The first wait, and the quiet step that ends the gathering (≤ 0: no wait at all). */
  stepMs: number;
  /** The most it waits in all (at least one step). */
  maxMs: number;
  /** A block is full at this many transactions: no point in waiting for more. */
  fullAt: number;
  sleep(ms: number): Promise<void>;
  /** False once the proposal is moot (the driver stopped, or moved to another height or view). */
  live(): boolean;
}

/** Waits as described above; resolves with the milliseconds waited. */
export async function gatherTxs(o: GatherOptions): Promise<number> {
  if (!(o.stepMs > 0)) return 0;
  const max = Math.max(o.stepMs, o.maxMs);
  let waited = 0;
  for (;;) {
    const before = o.txs.admitted;
    const step = Math.min(o.stepMs, max - waited);
    await o.sleep(step);
    waited += step;
    if (waited >= max || !o.live() || o.txs.size >= o.fullAt || o.txs.admitted === before) return waited;
  }
}

/**
 * The most a primary gathers at (height, view): at view 0, `blockDelayMaxMs` but no longer than the
 * last round took (at least one step); after a view change, when the round is already late, one step.
 */
export function gatherLimitMs(view: number, stepMs: number, blockDelayMaxMs: number | undefined, lastRoundMs: number): number {
  if (view > 0) return stepMs;
  return Math.min(blockDelayMaxMs ?? stepMs, Math.max(stepMs, lastRoundMs));
}
