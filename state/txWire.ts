// A direct reader for the one canonical byte form of a signed transaction (state/tx.ts), in front of
// the generic decoder: every tx is decoded once per validator, and the generic path (msgpackr, the
// typed codec, then a full re-encode to prove the bytes canonical) was the largest encoding cost of
// a loaded validator. This reader walks the bytes once and accepts ONLY the exact form `encode`
// writes — msgpack's minimal headers, the field types and bounds of txBodyCodec — returning the same
// value the generic path returns; for anything else it returns undefined and the caller runs the
// generic decoder, which accepts or refuses with its own error. So it can only be faster, never more
// permissive: test/unit/state/txWire.test.ts compares both on valid, mutated and hand-made inputs.
import { AMOUNT_MAX_BYTES, amountFromBytes, readMinimalUint } from '../lib/encoding.js';
import { bytesKey } from '../lib/hex.js';
import type { KeyType } from '../crypto/keys.js';
import type { SignedTx } from './tx.js';

/** What the reader needs from tx.ts (passed in, so the two files do not import each other). */
export interface TxWireRules {
  version: number;
  maxArgsBytes: number;
  chainIdRe: RegExp;
}

/** A byte string (bin8, or bin16 when it needs it) at `at`. Returns [start, end] of its contents. */
function readBin(raw: Uint8Array, at: number, maxLen: number): [number, number] | undefined {
  const tag = raw[at];
  let len: number;
  let start: number;
  if (tag === 0xc4 && at + 1 < raw.length) [len, start] = [raw[at + 1]!, at + 2];
  else if (tag === 0xc5 && at + 2 < raw.length) {
    [len, start] = [raw[at + 1]! * 0x100 + raw[at + 2]!, at + 3];
    if (len < 0x100) return undefined;
  } else return undefined;
  if (len > maxLen || start + len > raw.length) return undefined;
  return [start, start + len];
}

/**
 * A view of raw[r[0]..r[1]]. A function, not a closure made per call: tsx (esbuild keepNames) wraps
 * every named closure in a defineProperty call, which a validator paid per tx.
 */
function view(raw: Uint8Array, r: [number, number]): Uint8Array {
  return new Uint8Array(raw.buffer, raw.byteOffset + r[0], r[1] - r[0]);
}

/**
 * The signed tx in `raw` if `raw` is exactly its canonical encoding, else undefined (then decode
 * with the generic codec). Byte-string fields are Uint8Array views into `raw`.
 */
export function readCanonicalTx(raw: Uint8Array, rules: TxWireRules): SignedTx | undefined {
  // [body, signature]; body = [version, chainId, keyType, publicKey, nonce, moduleId, methodId, args, fee]
  if (raw.length < 2 || raw[0] !== 0x92 || raw[1] !== 0x99) return undefined;
  let at = 2;
  if (raw[at] !== rules.version) return undefined; // a positive fixint (the version is small)
  at++;
  // chainId: fixstr (< 32 bytes) or str8 (32..255), ASCII only here (CHAIN_ID_RE is ASCII)
  const st = raw[at];
  let strLen: number;
  if (st !== undefined && st >= 0xa0 && st <= 0xbf) [strLen, at] = [st - 0xa0, at + 1];
  else if (st === 0xd9 && at + 1 < raw.length && raw[at + 1]! >= 0x20) [strLen, at] = [raw[at + 1]!, at + 2];
  else return undefined;
  if (at + strLen > raw.length) return undefined;
  for (let i = at; i < at + strLen; i++) if (raw[i]! >= 0x80) return undefined;
  const chainId = bytesKey(raw.subarray(at, at + strLen));
  if (!rules.chainIdRe.test(chainId)) return undefined;
  at += strLen;
  const keyType = raw[at];
  if (keyType !== 0 && keyType !== 1) return undefined;
  at++;
  const pk = readBin(raw, at, 33);
  if (!pk || pk[1] - pk[0] !== 33) return undefined;
  at = pk[1];
  const nonce = readMinimalUint(raw, at, 0xffffffff); // nonces ≥ 2^32 take the generic path (int64 form)
  if (!nonce) return undefined;
  at = nonce[1];
  const moduleId = readMinimalUint(raw, at, 0xffff);
  if (!moduleId) return undefined;
  at = moduleId[1];
  const methodId = readMinimalUint(raw, at, 0xffff);
  if (!methodId) return undefined;
  at = methodId[1];
  const args = readBin(raw, at, rules.maxArgsBytes);
  if (!args) return undefined;
  at = args[1];
  const fee = readBin(raw, at, AMOUNT_MAX_BYTES);
  if (!fee || (fee[1] > fee[0] && raw[fee[0]] === 0)) return undefined; // minimal: no leading zero byte
  at = fee[1];
  const sig = readBin(raw, at, 64);
  if (!sig || sig[1] - sig[0] !== 64 || sig[1] !== raw.length) return undefined;
  return {
    body: {
      version: rules.version,
      chainId,
      keyType: keyType as KeyType,
      publicKey: view(raw, pk),
      nonce: nonce[0],
      moduleId: moduleId[0],
      methodId: methodId[0],
      args: view(raw, args),
      fee: amountFromBytes(view(raw, fee)),
    },
    signature: view(raw, sig),
  };
}
