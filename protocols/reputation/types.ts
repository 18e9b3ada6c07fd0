// Reputation module types (SPEC §5.3, §5.2; paper §3.2.2 step 9, BATM-like).

/**
 * A target's score (keyed by its offline identity). `pos` and `neg` are the time-decayed sums of
 * positive and negative event weights (fixed point, ONE = 10^18 per point) as of `updatedAt`.
 */
export interface Score {
  pos: bigint;
  neg: bigint;
  /** Block time (ms) at which pos/neg were last brought up to date. */
  updatedAt: number;
  /** Counts of positive and negative events ever recorded (negative votes forfeited by the notary are taken back). */
  positives: number;
  negatives: number;
}

/** A negative domain vote's deposit, refundable after the window unless the notary forfeits it. */
export interface Deposit {
  voter: Uint8Array;
  target: Uint8Array;
  name: string;
  amount: bigint;
  /** The vote's weight (fixed point), to take back if the deposit is forfeited. */
  weight: bigint;
  /** Block time (ms) of the vote. */
  time: number;
  /** Block time (ms) at which the deposit is refunded. */
  due: number;
}

/**
 * The gateway's evidence of a secure-channel session (SPEC §5.2). The gateway's online key signs
 * sessionProofMessage(chainId, name, voter, this without the signature).
 */
export interface SessionProof {
  clientRandom: Uint8Array;
  serverRandom: Uint8Array;
  /** UNIX time in ms of the client's random. */
  clientTime: number;
  /** UNIX time in ms of the server's random. */
  serverTime: number;
  /** SHA-256 of the RFC 9266 tls-exporter value (32 bytes of EXPORTER-Channel-Binding). */
  exporterHash: Uint8Array;
  signature: Uint8Array;
}

export interface ReputationParams {
  /** Half-life of an event's weight (ms). */
  halfLifeMs: number;
  /** Length of a voting period: one vote per (voter, target, period) (ms). */
  periodMs: number;
  /** Largest |score| of one vote (points). */
  maxScore: number;
  /** Fee of every vote, paid into the fee collector. */
  voteFee: bigint;
  /** Deposit of a negative domain vote. */
  negativeDeposit: bigint;
  /** How long the notary may forfeit a negative vote's deposit before it is refunded (ms). */
  depositWindowMs: number;
  /** A session proof's timestamps may be at most this old at the vote (ms) … */
  proofMaxAgeMs: number;
  /** … and at most this far ahead of the block time (clock skew, ms). */
  proofMaxFutureMs: number;
}

export interface VoteDomainArgs {
  name: string;
  /** −maxScore..maxScore, not 0. Positive needs `proof`; negative needs no proof but a deposit. */
  score: number;
  proof: SessionProof | undefined;
}

export interface ReputationMsgs {
  voteDomain: VoteDomainArgs;
  forfeitDeposit: { voteId: Uint8Array };
}
