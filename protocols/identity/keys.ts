// Identity key space (relative to the module prefix). One byte tag per record kind; permanent.
import { concatBytes, uintBE, utf8 } from '../../lib/hex.js';
import { deadlineKey } from '../module.js';

export const TAG = {
  /** 'P' → IdentityParams */
  PARAMS: 0x50,
  /** 'i' ‖ offline(20) → IdentityRecord */
  IDENTITY: 0x69,
  /** 'h' ‖ offline(20) ‖ index(u32 BE) → KeyHistoryEntry */
  HISTORY: 0x68,
  /** 'o' ‖ online(20) → offline(20): every online key ever registered (current and revoked) */
  ONLINE: 0x6f,
  /** 'a' ‖ ca(20) → CaRecord */
  CA: 0x61,
  /** 'c' ‖ committer(20) ‖ commitment(32) → Commitment */
  COMMIT: 0x63,
  /** 'n' ‖ name (ASCII) → DomainRecord */
  NAME: 0x6e,
  /** 't' ‖ target offline(20) → TargetStake */
  TARGET: 0x74,
  /** 'v' ‖ target(20) ‖ voucher(20) → Vouch */
  VOUCH: 0x76,
  /** 'u' ‖ target(20) ‖ voucher(20) → Unbonding */
  UNBOND: 0x75,
  /** 'q' ‖ due time(u64 BE, ms) ‖ kind(1) ‖ id → QueueJob: the deadline index walked by endBlock */
  QUEUE: 0x71,
} as const;

const one = (tag: number) => new Uint8Array([tag]);

export const PARAMS_KEY = one(TAG.PARAMS);
export const identityKey = (offline: Uint8Array) => concatBytes(one(TAG.IDENTITY), offline);
export const historyKey = (offline: Uint8Array, index: number) => concatBytes(one(TAG.HISTORY), offline, uintBE(index, 4));
export const onlineKey = (online: Uint8Array) => concatBytes(one(TAG.ONLINE), online);
export const caKey = (ca: Uint8Array) => concatBytes(one(TAG.CA), ca);
export const commitKey = (committer: Uint8Array, commitment: Uint8Array) => concatBytes(one(TAG.COMMIT), committer, commitment);
export const nameKey = (name: string) => concatBytes(one(TAG.NAME), utf8(name));
export const targetKey = (target: Uint8Array) => concatBytes(one(TAG.TARGET), target);
export const vouchKey = (target: Uint8Array, voucher: Uint8Array) => concatBytes(one(TAG.VOUCH), target, voucher);
export const vouchPrefix = (target: Uint8Array) => concatBytes(one(TAG.VOUCH), target);
export const unbondKey = (target: Uint8Array, voucher: Uint8Array) => concatBytes(one(TAG.UNBOND), target, voucher);

/** Kinds of deadline jobs (permanent). */
export const JOB = {
  /** id = committer(20) ‖ commitment(32): delete the commitment once older than maxCommitAgeMs */
  COMMIT_EXPIRY: 1,
  /** id = target(20) ‖ voucher(20): pay the unbonded stake back */
  UNBOND_RELEASE: 2,
  /** id = target(20): unwind the vouches of a closed identity (penalties, stakes to unbonding) */
  CLOSE_SWEEP: 3,
} as const;
export type JobKind = (typeof JOB)[keyof typeof JOB];

export const QUEUE_PREFIX = one(TAG.QUEUE);
export const queueKey = (due: number, kind: JobKind, id: Uint8Array) => deadlineKey(QUEUE_PREFIX, due, kind, id);

export const PREFIXES = {
  identity: one(TAG.IDENTITY),
  history: one(TAG.HISTORY),
  online: one(TAG.ONLINE),
  ca: one(TAG.CA),
  commit: one(TAG.COMMIT),
  name: one(TAG.NAME),
  target: one(TAG.TARGET),
  vouch: one(TAG.VOUCH),
  unbond: one(TAG.UNBOND),
  queue: QUEUE_PREFIX,
} as const;
