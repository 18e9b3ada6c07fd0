// The narrow interfaces the identity module needs from other modules. Modules never import each
// other: protocols/registry.ts wires the bank's and the reputation module's keepers into these.
import type { StoreAccess, ReaderAccess } from '../module.js';

export interface IdentityBankDeps {
  /** Moves `amount` from `from` into the escrow account named `module`; ProtocolError if `from` is short. */
  escrowDeposit(access: StoreAccess, module: string, from: Uint8Array, amount: bigint): void;
  /** Pays `amount` out of the escrow account named `module` to `to`. */
  escrowRelease(access: StoreAccess, module: string, to: Uint8Array, amount: bigint): void;
  /** Balance of an escrow account, read-only (invariants). */
  escrowBalance(access: ReaderAccess, module: string): bigint;
  /** Escrow account that receives name fees (the bank's fee collector). */
  feeSink: string;
}

export interface IdentityReputationDeps {
  /**
   * Records a negative reputation event of `num / den` points against the offline identity `target`
   * at block time `time` (ms): the cost, for a voucher, of a vouched key that was closed.
   */
  penalize(access: StoreAccess, target: Uint8Array, num: bigint, den: bigint, time: number): void;
}

export interface IdentityDeps {
  bank: IdentityBankDeps;
  /** Absent when the chain runs without the reputation module: closures then cost vouchers nothing. */
  reputation?: IdentityReputationDeps;
}

/** Escrow accounts of the identity module (bank module accounts, see protocols/bank/keys.ts). */
export const ESCROW = {
  /** Vouch stakes, active and unbonding. */
  stakes: 'identity-stakes',
  /** Incentives added by identities for their vouchers. */
  incentives: 'identity-incentives',
} as const;
