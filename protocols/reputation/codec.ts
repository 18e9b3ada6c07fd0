// Canonical codecs of the reputation records and messages.
import { struct, bytes20, bytes32, bytes64, amount, u53, str, optional, type Codec } from '../../lib/encoding.js';
import { InvalidMessageError, ERR } from '../../lib/errors.js';
import type { Score, Deposit, SessionProof, ReputationParams, VoteDomainArgs, ReputationMsgs } from './types.js';
import { REPUTATION_ERR } from './errors.js';

/** Longest domain name (DNS limit). */
export const MAX_NAME_BYTES = 253;
/** Bound of a signed score's codec (the module's maxScore parameter is the real limit). */
export const SCORE_CODEC_MAX = 10_000;

/** Signed integer in −max..max (msgpack's minimal int forms; canonical by decode's re-encoding check). */
export function sint(max: number): Codec<number> {
  const check = (v: unknown, path: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < -max || v > max) {
      throw new InvalidMessageError(ERR.ENCODING, `${path}: expected an integer in −${max}..${max}`);
    }
    return v;
  };
  return {
    toPlain(v) {
      if (!Number.isSafeInteger(v) || v < -max || v > max) throw new RangeError(`integer ${v} out of range ±${max}`);
      return v;
    },
    fromPlain: check,
    toJson: (v) => v,
    fromJson: check,
  };
}

export const scoreCodec = struct<Score>(
  { pos: amount, neg: amount, updatedAt: u53, positives: u53, negatives: u53 },
  ['pos', 'neg', 'updatedAt', 'positives', 'negatives'],
);

export const depositCodec = struct<Deposit>(
  { voter: bytes20, target: bytes20, name: str(MAX_NAME_BYTES), amount, weight: amount, time: u53, due: u53 },
  ['voter', 'target', 'name', 'amount', 'weight', 'time', 'due'],
);

export const sessionProofCodec = struct<SessionProof>(
  { clientRandom: bytes32, serverRandom: bytes32, clientTime: u53, serverTime: u53, exporterHash: bytes32, signature: bytes64 },
  ['clientRandom', 'serverRandom', 'clientTime', 'serverTime', 'exporterHash', 'signature'],
);

export const paramsCodec = struct<ReputationParams>(
  {
    halfLifeMs: u53,
    periodMs: u53,
    maxScore: u53,
    voteFee: amount,
    negativeDeposit: amount,
    depositWindowMs: u53,
    proofMaxAgeMs: u53,
    proofMaxFutureMs: u53,
  },
  ['halfLifeMs', 'periodMs', 'maxScore', 'voteFee', 'negativeDeposit', 'depositWindowMs', 'proofMaxAgeMs', 'proofMaxFutureMs'],
);

export const argsCodecs: { [K in keyof ReputationMsgs]: Codec<ReputationMsgs[K]> } = {
  voteDomain: struct<VoteDomainArgs>({ name: str(MAX_NAME_BYTES), score: sint(SCORE_CODEC_MAX), proof: optional(sessionProofCodec) }, ['name', 'score', 'proof']),
  forfeitDeposit: struct<{ voteId: Uint8Array }>({ voteId: bytes32 }, ['voteId']),
};

/** Stateless checks: a non-zero score; a proof only with a positive score, and always with one. */
export function validateVoteDomain(a: VoteDomainArgs): void {
  if (a.score === 0) throw new InvalidMessageError(REPUTATION_ERR.BAD_SCORE, 'score must not be 0');
  if (a.score > 0 && !a.proof) throw new InvalidMessageError(REPUTATION_ERR.PROOF_REQUIRED, 'a positive vote must carry the gateway’s session proof');
  if (a.score < 0 && a.proof) {
    throw new InvalidMessageError(REPUTATION_ERR.PROOF_NOT_ALLOWED, 'a negative vote carries a deposit, not a proof (a gateway that failed verification signs nothing)');
  }
}
