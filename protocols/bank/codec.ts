import { struct, bytes20, amount, u53, encode, decode, decodeTrusted, amountToBytes, amountFromBytes, minimalUint, readMinimalUint, AMOUNT_MAX_BYTES, type Codec } from '../../lib/encoding.js';
import { InvalidMessageError } from '../../lib/errors.js';
import type { Account, TransferArgs } from './types.js';
import { BANK_ERR } from './errors.js';

export const accountCodec: Codec<Account> = struct<Account>({ balance: amount, nonce: u53 }, ['balance', 'nonce']);
export const transferArgsCodec: Codec<TransferArgs> = struct<TransferArgs>({ to: bytes20, amount }, ['to', 'amount']);

export function validateTransfer(a: TransferArgs): void {
  if (a.amount === 0n) throw new InvalidMessageError(BANK_ERR.ZERO_AMOUNT, 'transfer amount must be positive');
}

// Account rows are written three times per transfer; msgpackr spends most of an encode allocating
// and packing a 2-item array. The two functions below write and read the row directly:
// [bin8 balance (minimal big-endian), nonce (msgpack's minimal uint form)], byte for byte what
// encode(accountCodec) gives for nonces below 2^32 (test/unit/protocols/bank/codec.test.ts compares
// them). Anything else takes the generic codec.

/** encode(accountCodec, a), faster. */
export function encodeAccount(a: Account): Uint8Array {
  if (!Number.isInteger(a.nonce) || a.nonce < 0 || a.nonce >= 2 ** 32) return encode(accountCodec, a); // the int64 form, or the codec's own error
  const balance = amountToBytes(a.balance); // RangeError outside 0 .. 2^256-1, as encode throws
  const nonce = minimalUint(a.nonce);
  const out = new Uint8Array(3 + balance.length + nonce.length);
  out[0] = 0x92; // array of 2
  out[1] = 0xc4; // bin8
  out[2] = balance.length;
  out.set(balance, 3);
  out.set(nonce, 3 + balance.length);
  return out;
}

/**
 * decodeTrusted(accountCodec, raw) (a state row this node wrote), faster for the forms encodeAccount
 * writes; anything else, garbage included, goes to decodeTrusted, which decodes or throws.
 */
export function decodeAccountRow(raw: Uint8Array): Account {
  const len = raw[2]!;
  if (raw.length >= 4 && raw[0] === 0x92 && raw[1] === 0xc4 && len <= AMOUNT_MAX_BYTES && !(len > 0 && raw[3] === 0)) {
    const nonce = readMinimalUint(raw, 3 + len, 0xffffffff);
    if (nonce && nonce[1] === raw.length) return { balance: amountFromBytes(raw.subarray(3, 3 + len)), nonce: nonce[0] };
  }
  return decodeTrusted(accountCodec, raw, 'bank account');
}

/**
 * decode(transferArgsCodec, b, what), faster: tx args are untrusted, so the fast path takes only the
 * canonical form — [bin8 of 20 bytes, bin8 minimal amount of at most 32 bytes], exactly what encode
 * writes and so exactly what decode accepts — and everything else goes to decode, which accepts or
 * rejects it with its own message.
 */
export function decodeTransferArgs(b: Uint8Array, what: string): TransferArgs {
  const len = b.length - 25; // amount bytes
  if (len >= 0 && len <= AMOUNT_MAX_BYTES && b[0] === 0x92 && b[1] === 0xc4 && b[2] === 20 && b[23] === 0xc4 && b[24] === len && !(len > 0 && b[25] === 0)) {
    return { to: b.slice(3, 23), amount: amountFromBytes(b.subarray(25)) };
  }
  return decode(transferArgsCodec, b, what);
}
