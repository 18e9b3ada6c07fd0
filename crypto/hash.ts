// Hash functions and domain tags. keccak256 comes from @noble/hashes (node's sha3-256 is a different
// hash); SHA-256 from node:crypto (OpenSSL), which is several times faster than a JS implementation.
import { hash as oneShot } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { utf8 } from '../lib/hex.js';

export function keccak256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return keccak_256(parts[0]!);
  const h = keccak_256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

// SHA-256 goes through OpenSSL's one-shot `crypto.hash` (about 4× faster than a createHash object for
// the short inputs hashed per transaction) with its digest asked for as a 'binary' (latin1) string, one
// char per byte, copied into a 32-byte array: 0.31 against 0.75 µs per 65-byte input for the 'buffer' output
// (bench/hash.ts). A Buffer digest is an ArrayBuffer with its own off-heap backing store, and the
// scavenger sweeps every young one: half of a scavenge's pause in bench/blockCost.ts went to that
// sweep. A 32-byte Uint8Array lives on the V8 heap (≤ 64 bytes), with no backing store to sweep.

/** Copies a 32-char binary (latin1) digest into `out` at `offset`. */
function putDigest(d: string, out: Uint8Array, offset: number): void {
  for (let i = 0; i < 32; i++) out[offset + i] = d.charCodeAt(i);
}

/** SHA-256 of the concatenated parts (a fresh 32-byte array). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(32);
  putDigest(oneShot('sha256', parts.length === 1 ? parts[0]! : Buffer.concat(parts), 'binary'), out, 0);
  return out;
}

/** SHA-256 of `data` written into `out[offset .. offset + 32)`: no allocation but the digest string. */
export function sha256Into(data: Uint8Array, out: Uint8Array, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + 32 > out.length) throw new RangeError(`sha256Into: 32 bytes at ${offset} do not fit in ${out.length}`);
  putDigest(oneShot('sha256', data, 'binary'), out, offset);
}

/**
 * Domain-separation tags: every signed or hashed message kind starts with its own tag, so a signature
 * or hash made for one kind can never be taken for another. Tags are permanent.
 */
export const DOMAIN = {
  tx: utf8('iotchain/tx/v1\0'),
  commitVote: utf8('iotchain/commit/v1\0'),
  consensusMsg: utf8('iotchain/pbft/v1\0'),
  popOnlineKey: utf8('iotchain/pop/v1\0'),
} as const;
