// Reputation key space (relative to the module prefix). One byte tag per record kind; permanent.
import { concatBytes, uintBE } from '../../lib/hex.js';
import { deadlineKey } from '../module.js';

export const TAG = {
  /** 'P' → ReputationParams */
  PARAMS: 0x50,
  /** 'N' → notary address (20 bytes), absent if none */
  NOTARY: 0x4e,
  /** 'r' ‖ target offline(20) → Score */
  SCORE: 0x72,
  /** 'm' ‖ voter(20) ‖ target(20) ‖ period(u64 BE) → vote marker (one vote per voter, target, period) */
  MARK: 0x6d,
  /** 's' ‖ SHA-256(session proof message)(32) → used-proof marker */
  PROOF: 0x73,
  /** 'd' ‖ voteId(32) → Deposit */
  DEPOSIT: 0x64,
  /** 'q' ‖ due(u64 BE, ms) ‖ kind(1) ‖ id → deadline job */
  QUEUE: 0x71,
} as const;

const one = (t: number) => new Uint8Array([t]);

export const PARAMS_KEY = one(TAG.PARAMS);
export const NOTARY_KEY = one(TAG.NOTARY);
export const scoreKey = (target: Uint8Array) => concatBytes(one(TAG.SCORE), target);
export const markId = (voter: Uint8Array, target: Uint8Array, period: number) => concatBytes(voter, target, uintBE(period, 8));
export const markKey = (id: Uint8Array) => concatBytes(one(TAG.MARK), id);
export const proofKey = (digest: Uint8Array) => concatBytes(one(TAG.PROOF), digest);
export const depositKey = (voteId: Uint8Array) => concatBytes(one(TAG.DEPOSIT), voteId);

export const JOB = {
  /** id = voteId(32): refund a negative vote's deposit */
  DEPOSIT_REFUND: 1,
  /** id = markId: forget a vote marker once its period is over */
  MARK_EXPIRY: 2,
  /** id = digest(32): forget a used session proof once it is too old to be used anyway */
  PROOF_EXPIRY: 3,
} as const;
export type JobKind = (typeof JOB)[keyof typeof JOB];

export const QUEUE_PREFIX = one(TAG.QUEUE);
export const queueKey = (due: number, kind: JobKind, id: Uint8Array) => deadlineKey(QUEUE_PREFIX, due, kind, id);

export const PREFIXES = {
  score: one(TAG.SCORE),
  mark: one(TAG.MARK),
  proof: one(TAG.PROOF),
  deposit: one(TAG.DEPOSIT),
  queue: QUEUE_PREFIX,
} as const;
