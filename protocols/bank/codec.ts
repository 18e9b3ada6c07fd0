import { struct, bytes20, amount, u53, encode, decode, decodeTrusted, type Codec } from '../../lib/encoding.js';
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

const AMOUNT_LIMIT = 1n << 256n;
const hexValue = (c: number): number => (c <= 0x39 ? c - 0x30 : c - 0x57); // '0'-'9', 'a'-'f'

/** encode(accountCodec, a), faster. */
export function encodeAccount(a: Account): Uint8Array {
  const { balance, nonce } = a;
  if (typeof balance !== 'bigint' || balance < 0n || balance >= AMOUNT_LIMIT || !Number.isInteger(nonce) || nonce < 0 || nonce >= 2 ** 32) return encode(accountCodec, a);
  let hex = balance === 0n ? '' : balance.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const len = hex.length / 2;
  const nonceLen = nonce < 0x80 ? 1 : nonce < 0x100 ? 2 : nonce < 0x10000 ? 3 : 5;
  const out = new Uint8Array(3 + len + nonceLen);
  out[0] = 0x92; // array of 2
  out[1] = 0xc4; // bin8
  out[2] = len;
  for (let i = 0; i < len; i++) out[3 + i] = (hexValue(hex.charCodeAt(2 * i)) << 4) | hexValue(hex.charCodeAt(2 * i + 1));
  const o = 3 + len;
  if (nonceLen === 1) out[o] = nonce; // positive fixint
  else if (nonceLen === 2) out.set([0xcc, nonce], o);
  else if (nonceLen === 3) out.set([0xcd, nonce >>> 8, nonce & 0xff], o);
  else out.set([0xce, nonce >>> 24, (nonce >>> 16) & 0xff, (nonce >>> 8) & 0xff, nonce & 0xff], o);
  return out;
}

/**
 * decodeTrusted(accountCodec, raw) (a state row this node wrote), faster for the forms encodeAccount
 * writes; anything else, garbage included, goes to decodeTrusted, which decodes or throws.
 */
export function decodeAccountRow(raw: Uint8Array): Account {
  const len = raw[2]!;
  if (raw.length >= 4 && raw[0] === 0x92 && raw[1] === 0xc4 && len <= 32 && !(len > 0 && raw[3] === 0)) {
    const o = 3 + len;
    const n = raw.length - o; // bytes of the nonce
    const tag = raw[o];
    let nonce = -1;
    if (n === 1 && tag! < 0x80) nonce = tag!;
    else if (n === 2 && tag === 0xcc) nonce = raw[o + 1]!;
    else if (n === 3 && tag === 0xcd) nonce = raw[o + 1]! * 0x100 + raw[o + 2]!;
    else if (n === 5 && tag === 0xce) nonce = raw[o + 1]! * 0x1000000 + raw[o + 2]! * 0x10000 + raw[o + 3]! * 0x100 + raw[o + 4]!;
    if (nonce >= 0) {
      const balance = len === 0 ? 0n : BigInt('0x' + Buffer.from(raw.buffer, raw.byteOffset + 3, len).toString('hex'));
      return { balance, nonce };
    }
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
  if (len >= 0 && len <= 32 && b[0] === 0x92 && b[1] === 0xc4 && b[2] === 20 && b[23] === 0xc4 && b[24] === len && !(len > 0 && b[25] === 0)) {
    const amount = len === 0 ? 0n : BigInt('0x' + Buffer.from(b.buffer, b.byteOffset + 25, len).toString('hex'));
    return { to: b.slice(3, 23), amount };
  }
  return decode(transferArgsCodec, b, what);
}
