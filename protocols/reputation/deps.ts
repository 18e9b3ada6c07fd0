// The narrow interfaces the reputation module needs from other modules; protocols/registry.ts
// wires the bank's and the identity module's keepers into them. Modules never import each other.
import type { KeyType } from '../../crypto/keys.js';
import type { StoreAccess, ReaderAccess } from '../module.js';

export interface ReputationBankDeps {
  escrowDeposit(access: StoreAccess, module: string, from: Uint8Array, amount: bigint): void;
  escrowRelease(access: StoreAccess, module: string, to: Uint8Array, amount: bigint): void;
  escrowBalance(access: ReaderAccess, module: string): bigint;
  /** Escrow account that receives vote fees (the bank's fee collector). */
  feeSink: string;
}

export interface ReputationIdentityDeps {
  /** The offline identity an address stands for (online keys map to their owner). */
  identityOf(access: ReaderAccess, addr: Uint8Array): Uint8Array;
  /** Current online key of an open identity. */
  activeKey(access: ReaderAccess, offline: Uint8Array): { online: Uint8Array; keyType: KeyType; pub: Uint8Array } | undefined;
  /** A name's state ('active' = resolvable) and owner at block time `now`. */
  domain(access: ReaderAccess, name: string, now: number): { state: string; owner: Uint8Array | undefined };
}

export interface ReputationDeps {
  bank: ReputationBankDeps;
  identity: ReputationIdentityDeps;
}

export const ESCROW = {
  /** Deposits of negative votes. */
  deposits: 'reputation-deposits',
} as const;

/** A StoreAccess read through as a ReaderAccess (handlers pass their access to read-only keepers). */
/** The read-only side of a StoreAccess. */
export { readerAccess as asReader } from '../module.js';
