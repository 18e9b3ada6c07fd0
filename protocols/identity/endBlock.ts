// End-of-block hook: walks the deadline index ('q' ‖ due ‖ kind ‖ id, in due order) with a cap per
// block. Never an in-memory map: a restarted node resumes from state.
import { InternalError } from '../../lib/errors.js';
import { dueJobs, type BlockContext } from '../module.js';
import { IdentityStore } from './store.js';
import { JOB, QUEUE_PREFIX, vouchPrefix } from './keys.js';
import { decode } from '../../lib/encoding.js';
import { vouchCodec } from './codec.js';
import { ESCROW, type IdentityDeps } from './deps.js';
import { accrue, pendingReward } from './incentives.js';
import { settleIfEmpty, startUnbonding } from './handlers.js';
import type { IdentityParams } from './types.js';

/** Most deadline jobs handled per block. */
export const QUEUE_CAP = 64;
/** Most vouches of a closed identity unwound per block. */
export const SWEEP_CAP = 32;

/** Reputation points (as num/den) a voucher loses for `stake` on a key that was closed. */
export function closePenalty(p: IdentityParams, stake: bigint): { num: bigint; den: bigint } {
  return { num: stake * BigInt(p.closePenaltyPoints), den: p.closePenaltyPerAmount };
}

export function makeEndBlock(deps: IdentityDeps) {
  const { bank } = deps;

  function penalize(ctx: BlockContext, p: IdentityParams, voucher: Uint8Array, target: Uint8Array, stake: bigint): void {
    const { num, den } = closePenalty(p, stake);
    if (num === 0n || !deps.reputation) return;
    deps.reputation.penalize(ctx.access, voucher, num, den, ctx.block.time);
    ctx.emit('voucherPenalized', { voucher, target, stake });
  }

  /** Unwinds up to SWEEP_CAP vouches of a closed target; returns true when none is left. */
  async function sweep(ctx: BlockContext, s: IdentityStore, p: IdentityParams, target: Uint8Array): Promise<boolean> {
    const batch: [Uint8Array, Uint8Array][] = [];
    for await (const [k, v] of ctx.state.entries(vouchPrefix(target), { limit: SWEEP_CAP })) batch.push([k.slice(21), v]);
    const now = ctx.block.time;
    let t = accrue(s.target(target), now, true);
    for (const [voucher, raw] of batch) {
      const v = decode(vouchCodec, raw, 'identity vouch');
      const pending = pendingReward(v, t);
      if (pending > 0n) {
        bank.escrowRelease(ctx.access, ESCROW.incentives, voucher, pending);
        t = { ...t, held: t.held - pending };
      }
      penalize(ctx, p, voucher, target, v.stake);
      s.setVouch(target, voucher, undefined);
      // already penalized: liable 0
      startUnbonding(s, target, voucher, v.stake, 0n, now + p.unbondingMs);
      t = { ...t, totalStake: t.totalStake - v.stake, vouchers: t.vouchers - 1 };
    }
    t = settleIfEmpty(bank, ctx.access, t, target, true);
    s.setTarget(target, t);
    return t.vouchers === 0;
  }

  return async function endBlock(ctx: BlockContext): Promise<void> {
    const s = new IdentityStore(ctx.state);
    const now = ctx.block.time;
    const jobs = await dueJobs(ctx.state, QUEUE_PREFIX, now, QUEUE_CAP);
    if (jobs.length === 0) return;
    const p = s.params();
    for (const job of jobs) {
      switch (job.kind) {
        case JOB.COMMIT_EXPIRY: {
          const committer = job.id.subarray(0, 20);
          const commitment = job.id.subarray(20);
          const c = s.commitment(committer, commitment);
          if (c && now - c.time > p.maxCommitAgeMs) s.setCommitment(committer, commitment, undefined);
          s.dequeue(job.due, JOB.COMMIT_EXPIRY, job.id);
          break;
        }
        case JOB.UNBOND_RELEASE: {
          const target = job.id.subarray(0, 20);
          const voucher = job.id.subarray(20);
          const u = s.unbonding(target, voucher);
          s.dequeue(job.due, JOB.UNBOND_RELEASE, job.id);
          if (!u || u.due !== job.due) break;
          // a target closed while this stake was unbonding still costs the voucher its reputation
          if (u.liable > 0n && s.identity(target)?.closedAt !== undefined) penalize(ctx, p, voucher, target, u.liable);
          bank.escrowRelease(ctx.access, ESCROW.stakes, voucher, u.amount);
          s.setUnbonding(target, voucher, undefined);
          ctx.emit('unbonded', { voucher, target, amount: u.amount });
          break;
        }
        case JOB.CLOSE_SWEEP: {
          if (await sweep(ctx, s, p, job.id)) s.dequeue(job.due, JOB.CLOSE_SWEEP, job.id);
          break;
        }
        default:
          throw new InternalError('IDENTITY_BAD_QUEUE', `unknown deadline job kind ${job.kind}`);
      }
    }
  };
}
