// Bank key space (relative to the bank module prefix).
import { utf8 } from '../../lib/hex.js';
import { keccak256 } from '../../crypto/hash.js';

const ACCOUNT = 0x61; // 'a' ‖ address(20) → Account
const SUPPLY = 0x73; // 's' → total supply (amount bytes)

export function accountKey(address: Uint8Array): Uint8Array {
  const k = new Uint8Array(1 + address.length);
  k[0] = ACCOUNT;
  k.set(address, 1);
  return k;
}
export const ACCOUNT_PREFIX = new Uint8Array([ACCOUNT]);
export const SUPPLY_KEY = new Uint8Array([SUPPLY]);

/** Address of a module's escrow account: keccak256("iotchain/module/" ‖ name)[12:]. No key signs for it. */
export function moduleAddress(name: string): Uint8Array {
  return keccak256(utf8(`iotchain/module/${name}`)).subarray(12);
}

/** Where fees go: a module account, so that the total supply never changes. */
export const FEE_COLLECTOR = 'fees';
