// The one place a vote is recorded: voteDomain (handlers.ts) and other modules (keeper.ts castVote)
// both come through here, so the rules are the same everywhere: no self-vote, |score| ≤ maxScore,
// at most one vote per (voter, target, period), a fee per vote.
import { ProtocolError } from '../../lib/errors.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import type { StoreAccess, EventValue } from '../module.js';
import { ReputationStore } from './store.js';
import { REPUTATION_ERR } from './errors.js';
import { JOB, markId } from './keys.js';
import { ONE } from './decay.js';
import { addEvent } from './score.js';
import type { ReputationBankDeps } from './deps.js';
import type { ReputationParams } from './types.js';

export interface VoteInput {
  /** Offline identity of the voter. */
  voter: Uint8Array;
  /** Offline identity voted on. */
  target: Uint8Array;
  /** −maxScore..maxScore, not 0. */
  score: number;
  /** What the vote is about (session proof digest, job id, training round…), for the event log. */
  interaction: Uint8Array;
  /** Account that pays the vote fee. */
  payer: Uint8Array;
  /** Block time (ms). */
  time: number;
}

/** Voting period of a block time: ⌊time / periodMs⌋ (integer arithmetic). */
export function periodOf(time: number, periodMs: number): number {
  return (time - (time % periodMs)) / periodMs;
}

export function recordVote(
  s: ReputationStore,
  bank: ReputationBankDeps,
  access: StoreAccess,
  p: ReputationParams,
  v: VoteInput,
  emit: (type: string, attrs: Record<string, EventValue>) => void,
): void {
  if (bytesEqual(v.voter, v.target)) throw new ProtocolError(REPUTATION_ERR.SELF_VOTE, 'an identity cannot vote on itself');
  if (!Number.isSafeInteger(v.score) || v.score === 0 || Math.abs(v.score) > p.maxScore) {
    throw new ProtocolError(REPUTATION_ERR.BAD_SCORE, `score must be a non-zero integer in −${p.maxScore}..${p.maxScore}`);
  }
  const period = periodOf(v.time, p.periodMs);
  const id = markId(v.voter, v.target, period);
  if (s.hasMark(id)) throw new ProtocolError(REPUTATION_ERR.ALREADY_VOTED, `${toHex(v.voter)} already voted on ${toHex(v.target)} in period ${period}`);
  if (p.voteFee > 0n) bank.escrowDeposit(access, bank.feeSink, v.payer, p.voteFee);
  s.setMark(id, true);
  s.enqueue((period + 1) * p.periodMs, JOB.MARK_EXPIRY, id);
  const weight = BigInt(Math.abs(v.score)) * ONE;
  s.setScore(v.target, addEvent(s.score(v.target), v.time, p.halfLifeMs, weight, v.score > 0));
  emit('vote', { voter: v.voter, target: v.target, score: v.score, interaction: v.interaction, period });
}
