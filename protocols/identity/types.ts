// Identity module types (SPEC §5.1, paper §3.2.1): state records, messages, parameters.
import type { KeyType } from '../../crypto/keys.js';

/** An entity, keyed by its offline address: its current online key and its life cycle. */
export interface IdentityRecord {
  /** Current (or, once closed, last) online address. */
  online: Uint8Array;
  keyType: KeyType;
  /** Current online public key, 33-byte compressed. */
  pub: Uint8Array;
  /** Height of the first submitPublicKey. */
  registeredAt: number;
  /** Number of entries in the key history (the last one is the current key). */
  historyLength: number;
  /** Height of closePublicKey (irrevocable), or undefined while open. */
  closedAt: number | undefined;
}

/**
 * One online key in an identity's history: valid for data anchored at heights `from ≤ h < to`
 * (`to` undefined = still the current key).
 */
export interface KeyHistoryEntry {
  online: Uint8Array;
  keyType: KeyType;
  pub: Uint8Array;
  from: number;
  to: number | undefined;
}

/** A name commitment (commit–reveal), keyed by (committer, commitment hash). */
export interface Commitment {
  /** Block time (ms) of the commit. */
  time: number;
  height: number;
}

/** How a name was registered: by its owner (fully decentralized) or by a registered CA (quasi-centralized). */
export const NameMode = { decentralized: 0, ca: 1 } as const;
export type NameMode = (typeof NameMode)[keyof typeof NameMode];

export interface DomainRecord {
  /** Offline address of the owner. */
  owner: Uint8Array;
  /** IPv4 or IPv6 address with an optional port, as registered (strict syntax, see syntax.ts). */
  ip: string;
  /** Offline address that may take the domain over once the owner has closed its key. */
  backup: Uint8Array | undefined;
  /** Who submitted the registration: the owner itself, or the CA. */
  registrar: Uint8Array;
  mode: NameMode;
  /** Height of the registration (or of the last takeover). */
  registeredAt: number;
  /** Block time (ms) from which the name no longer resolves; renewable until expires + grace. */
  expires: number;
}

/** Web-of-trust stake and incentive stream of one vouched identity (keyed by its offline address). */
export interface TargetStake {
  /** Sum of the active vouches' stakes. */
  totalStake: bigint;
  /** Number of active vouches. */
  vouchers: number;
  /** Incentive not yet released to vouchers. */
  pool: bigint;
  /** Block time (ms) at which the pool is fully released (linear stream). */
  streamEnd: number;
  /** Block time (ms) of the last accrual. */
  lastAccrual: number;
  /** Reward released per unit of stake, scaled by ACC_SCALE (only grows). */
  acc: bigint;
  /** Coins in the incentive escrow that belong to this target: pool + released but not yet paid. */
  held: bigint;
}

export interface Vouch {
  stake: bigint;
  /** `acc` of the target at this vouch's last settlement. */
  accSnapshot: bigint;
  /** Height of the first vouch. */
  since: number;
}

/** Stake on its way back to a voucher (one record per (target, voucher)). */
export interface Unbonding {
  amount: bigint;
  /** Part of `amount` whose voucher has not yet been penalized for a closure of the target. */
  liable: bigint;
  /** Block time (ms) at which the amount is paid back. */
  due: number;
}

export interface CaRecord {
  /** Height from which the CA is registered (0 = genesis). */
  since: number;
}

export interface IdentityParams {
  /** A name may be revealed only once its commitment is at least this old (ms). */
  minCommitAgeMs: number;
  /** … and at most this old (ms); older commitments are void and garbage-collected. */
  maxCommitAgeMs: number;
  /** Length of one registration period (ms). */
  namePeriodMs: number;
  /** Fee per period, paid by the registrant / renewer into the fee collector. */
  nameFeePerPeriod: bigint;
  /** Most periods one registration or renewal may buy, and the furthest horizon (periods from now). */
  maxPeriods: number;
  /** After expiry a name stays reserved for renewal this long (ms), then anyone may register it. */
  nameGraceMs: number;
  /** Smallest bet of one vouchKey. */
  minBet: bigint;
  /** Delay between unvouchKey and the stake's return (ms). */
  unbondingMs: number;
  /** An incentive is streamed linearly to vouchers over this long (ms) from the last addIncentive. */
  incentivePeriodMs: number;
  /** Reputation points a voucher loses per `closePenaltyPerAmount` of stake when the key it vouched for is closed. */
  closePenaltyPoints: number;
  closePenaltyPerAmount: bigint;
  /** Trust level = bit length of (total stake / trustUnit). */
  trustUnit: bigint;
}

export interface KeyArgs {
  /** New online address; must equal addressOf(keyType, pub). */
  addr: Uint8Array;
  keyType: KeyType;
  pub: Uint8Array;
  /** Proof of possession: the online key's signature over popMessage(chainId, offline address). */
  pop: Uint8Array;
}

export interface SubmitDomainArgs {
  /** Owner's offline address. */
  addr: Uint8Array;
  name: string;
  ip: string;
  backup: Uint8Array | undefined;
  /** The salt of the commitment being revealed. */
  salt: Uint8Array;
  periods: number;
}

export interface IdentityMsgs {
  submitPublicKey: KeyArgs;
  addIncentive: { reward: bigint };
  updatePublicKey: KeyArgs;
  closePublicKey: Record<string, never>;
  commitDomainName: { commitment: Uint8Array };
  submitDomainName: SubmitDomainArgs;
  renewDomainName: { name: string; periods: number };
  updateDomainName: { name: string; ip: string; backup: Uint8Array | undefined };
  takeOverDomainName: { name: string; ip: string | undefined };
  vouchKey: { addr: Uint8Array; bet: bigint };
  unvouchKey: { addr: Uint8Array };
  claimIncentive: { addr: Uint8Array };
}
