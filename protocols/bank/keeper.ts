// The bank's API for the application (fees, nonces) and for other modules (escrow accounts).
// Other modules declare the subset they need in their own deps.ts; the app wires this in.
import { ProtocolError } from '../../lib/errors.js';
import type { StoreAccess, ReaderAccess } from '../module.js';
import { BankReader, BankStore } from './store.js';
import { moduleAddress, FEE_COLLECTOR } from './keys.js';
import { BANK_ERR } from './errors.js';
import { BANK_MODULE_ID } from './id.js';

export interface BankKeeper {
  balance(access: StoreAccess, address: Uint8Array): bigint;
  transfer(access: StoreAccess, from: Uint8Array, to: Uint8Array, amount: bigint): void;
  /** Moves `amount` from `from` into the escrow account of module `module`. */
  escrowDeposit(access: StoreAccess, module: string, from: Uint8Array, amount: bigint): void;
  /** Pays `amount` out of module `module`'s escrow to `to`; a ProtocolError if the escrow is short. */
  escrowRelease(access: StoreAccess, module: string, to: Uint8Array, amount: bigint): void;
  escrowBalance(access: StoreAccess, module: string): bigint;
}

const store = (a: StoreAccess) => new BankStore(a.storeOf(BANK_MODULE_ID));

export const bankKeeper: BankKeeper = {
  balance: (a, addr) => store(a).balance(addr),
  transfer(a, from, to, amount) {
    if (amount < 0n) throw new RangeError('negative amount');
    store(a).move(from, to, amount);
  },
  escrowDeposit(a, module, from, amount) {
    if (amount < 0n) throw new RangeError('negative amount');
    store(a).move(from, moduleAddress(module), amount);
  },
  escrowRelease(a, module, to, amount) {
    if (amount < 0n) throw new RangeError('negative amount');
    store(a).move(moduleAddress(module), to, amount, BANK_ERR.ESCROW_SHORT);
  },
  escrowBalance: (a, module) => store(a).balance(moduleAddress(module)),
};

/** Account nonce and balance as committed (mempool admission). */
export function readAccount(access: ReaderAccess, address: Uint8Array) {
  return new BankReader(access.readerOf(BANK_MODULE_ID)).account(address);
}

/**
 * Takes the fee from the sender and consumes the nonce. Called by the app before the handler runs,
 * outside the handler's checkpoint, so a failed transaction still pays and uses its nonce. The fee
 * reaches the fee collector through `collectFees`, once per block for all the block's txs: crediting
 * it per tx wrote the collector's row (an encode and an overlay write) per tx, for a final state that
 * is the same either way, since nothing takes from the collector (no key signs for it and no module
 * releases from it) and credits commute.
 */
export function chargeFeeAndNonce(access: StoreAccess, sender: Uint8Array, nonce: number, fee: bigint): void {
  const s = store(access);
  const acct = s.account(sender);
  if (acct.nonce !== nonce) throw new ProtocolError('TX_BAD_NONCE', `nonce ${nonce}, expected ${acct.nonce}`);
  if (acct.balance < fee) throw new ProtocolError('TX_INSUFFICIENT_FEE_BALANCE', `balance ${acct.balance} cannot pay fee ${fee}`);
  s.setAccount(sender, { balance: acct.balance - fee, nonce: acct.nonce + 1 });
}

/** Credits the fee collector with the fees `chargeFeeAndNonce` took (a block's total). */
export function collectFees(access: StoreAccess, total: bigint): void {
  if (total < 0n) throw new RangeError('negative fee total');
  if (total > 0n) store(access).credit(FEE_COLLECTOR_ADDRESS, total);
}

/** Computed once: a keccak per fee-paying tx showed in profiles. Only read, never handed out. */
const FEE_COLLECTOR_ADDRESS = moduleAddress(FEE_COLLECTOR);
