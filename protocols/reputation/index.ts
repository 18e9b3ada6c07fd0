// The reputation module (SPEC §5.3, §5.2; BATM-like): time-decayed scores of offline identities,
// domain votes backed by a session proof or a deposit, and a vote hook for other modules.
import type { NativeModule } from '../module.js';
import { argsCodecs, validateVoteDomain } from './codec.js';
import { makeHandlers } from './handlers.js';
import { makeEndBlock } from './endBlock.js';
import { makeInvariants } from './invariants.js';
import { makeQueries } from './queries.js';
import { genesis } from './genesis.js';
import { REPUTATION_MODULE_ID } from './id.js';
import type { ReputationDeps } from './deps.js';
import type { ReputationMsgs } from './types.js';

/** Builds the module over its dependencies (protocols/registry.ts wires them). Method ids are permanent. */
export function createReputationModule(deps: ReputationDeps): NativeModule<ReputationMsgs> {
  return {
    id: REPUTATION_MODULE_ID,
    name: 'reputation',
    methods: {
      voteDomain: { id: 1, args: argsCodecs.voteDomain, signer: 'online', validateBasic: validateVoteDomain },
      forfeitDeposit: { id: 2, args: argsCodecs.forfeitDeposit, signer: 'any' },
    },
    handlers: makeHandlers(deps),
    queries: makeQueries(deps),
    genesis,
    endBlock: makeEndBlock(deps),
    invariants: makeInvariants(deps),
  };
}

export { REPUTATION_MODULE_ID } from './id.js';
export { REPUTATION_ERR } from './errors.js';
export { reputationKeeper, makeReputationKeeper, type VoteInput } from './keeper.js';
export { ONE as SCORE_ONE, decay, decayFactor } from './decay.js';
export { ratioPpm, formatFixed } from './score.js';
export { sessionProofMessage, signSessionProof, verifySessionProof, sessionProofDigest, exporterHash, SESSION_PROOF_TAG, type SessionEvidence } from './sessionProof.js';
export { sessionProofCodec } from './codec.js';
export { DEFAULT_REPUTATION_PARAMS } from './genesis.js';
export { ESCROW as REPUTATION_ESCROW, type ReputationDeps, type ReputationBankDeps, type ReputationIdentityDeps } from './deps.js';
export type { ReputationMsgs, ReputationParams, Score, SessionProof, VoteDomainArgs, Deposit } from './types.js';
