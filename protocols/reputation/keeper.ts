// The reputation module's API for other modules (they declare the subset they need in their
// deps.ts; protocols/registry.ts wires it):
// - castVote: the generic vote hook for modules that attest an interaction themselves (the
//   marketplace for a job, federated learning for a training round). Same rules as voteDomain.
// - penalize: a negative event decided by another module's rules (identity: vouchers of a key
//   that was closed).
import type { StoreAccess, EventValue } from '../module.js';
import { ReputationStore } from './store.js';
import { REPUTATION_MODULE_ID } from './id.js';
import { recordVote, type VoteInput } from './votes.js';
import { addEvent, weightOf } from './score.js';
import type { ReputationBankDeps } from './deps.js';

export type { VoteInput } from './votes.js';

const store = (a: StoreAccess) => new ReputationStore(a.storeOf(REPUTATION_MODULE_ID));

export function makeReputationKeeper(bank: ReputationBankDeps) {
  return {
    /**
     * Records a vote for an interaction the calling module has verified (the voter took part in
     * it). Enforces: no self-vote, 0 < |score| ≤ maxScore, one vote per (voter, target, period),
     * the vote fee from `payer`. Throws ProtocolError (the caller's transaction fails).
     */
    castVote(access: StoreAccess, v: VoteInput, emit: (type: string, attrs: Record<string, EventValue>) => void): void {
      const s = store(access);
      recordVote(s, bank, access, s.params(), v, emit);
    },
  };
}

/** Keeper functions that need no other module. */
export const reputationKeeper = {
  /** A negative event of `num / den` points against `target` at block time `time` (ms). */
  penalize(access: StoreAccess, target: Uint8Array, num: bigint, den: bigint, time: number): void {
    const s = store(access);
    const p = s.params();
    s.setScore(target, addEvent(s.score(target), time, p.halfLifeMs, weightOf(num, den), false));
  },
};
