// End-of-block hook: walks the deadline index with a cap per block (deposit refunds, and garbage
// collection of vote markers and used-proof markers that can no longer matter).
import { InternalError } from '../../lib/errors.js';
import { dueJobs, type BlockContext } from '../module.js';
import { ReputationStore } from './store.js';
import { JOB, QUEUE_PREFIX } from './keys.js';
import { ESCROW, type ReputationDeps } from './deps.js';

/** Most deadline jobs handled per block. */
export const QUEUE_CAP = 128;

export function makeEndBlock(deps: ReputationDeps) {
  return async function endBlock(ctx: BlockContext): Promise<void> {
    const jobs = await dueJobs(ctx.state, QUEUE_PREFIX, ctx.block.time, QUEUE_CAP);
    const s = new ReputationStore(ctx.state);
    for (const job of jobs) {
      switch (job.kind) {
        case JOB.DEPOSIT_REFUND: {
          const dep = s.deposit(job.id);
          if (dep) {
            if (dep.amount > 0n) deps.bank.escrowRelease(ctx.access, ESCROW.deposits, dep.voter, dep.amount);
            s.setDeposit(job.id, undefined);
            ctx.emit('depositRefunded', { voteId: job.id, voter: dep.voter, amount: dep.amount });
          }
          s.dequeue(job.due, JOB.DEPOSIT_REFUND, job.id);
          break;
        }
        case JOB.MARK_EXPIRY:
          s.setMark(job.id, false);
          s.dequeue(job.due, JOB.MARK_EXPIRY, job.id);
          break;
        case JOB.PROOF_EXPIRY:
          s.setProofUsed(job.id, false);
          s.dequeue(job.due, JOB.PROOF_EXPIRY, job.id);
          break;
        default:
          throw new InternalError('REPUTATION_BAD_QUEUE', `unknown deadline job kind ${job.kind}`);
      }
    }
  };
}
