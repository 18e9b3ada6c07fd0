// Key pairs and addresses (SPEC §1 "Keys and addresses").
// secp256k1 (default, Ethereum-compatible addresses) or P-256 (secure elements, TPMs; fast to verify).
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256 } from '@noble/curves/nist.js';
import { keccak256 } from './hash.js';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { concatBytes, toHex, fromHex, bytesKey } from '../lib/hex.js';

/** Permanent numeric key-type tags, as carried in transactions. */
export const KeyType = { secp256k1: 0, p256: 1 } as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];
export type CurveName = keyof typeof KeyType;

export const CURVE_NAMES: Record<KeyType, CurveName> = { 0: 'secp256k1', 1: 'p256' };

export function curveOf(type: KeyType) {
  return type === KeyType.p256 ? p256 : secp256k1;
}

export function isKeyType(n: number): n is KeyType {
  return n === KeyType.secp256k1 || n === KeyType.p256;
}

export function keyTypeFromName(name: string): KeyType {
  const n = name.toLowerCase();
  if (n === 'secp256k1' || n === 'k1') return KeyType.secp256k1;
  if (n === 'p256' || n === 'secp256r1' || n === 'p-256') return KeyType.p256;
  throw new InvalidMessageError(ERR.CONFIG, `unknown curve "${name}" (use secp256k1 or p256)`);
}

export interface KeyPair {
  type: KeyType;
  privateKey: Uint8Array; // 32 bytes
  publicKey: Uint8Array; // 33 bytes, compressed
}

export function generateKeyPair(type: KeyType = KeyType.secp256k1): KeyPair {
  const curve = curveOf(type);
  const privateKey = curve.utils.randomSecretKey();
  return { type, privateKey, publicKey: curve.getPublicKey(privateKey, true) };
}

export function keyPairFromPrivate(type: KeyType, privateKey: Uint8Array): KeyPair {
  const curve = curveOf(type);
  if (!curve.utils.isValidSecretKey(privateKey)) throw new InvalidMessageError(ERR.KEY_FILE, 'private key is not a valid scalar for its curve');
  return { type, privateKey, publicKey: curve.getPublicKey(privateKey, true) };
}

/** Validates a compressed public key (33 bytes, on the curve); throws InvalidMessageError otherwise. */
export function assertPublicKey(type: KeyType, publicKey: Uint8Array): void {
  if (publicKey.length !== 33) throw new InvalidMessageError(ERR.ENCODING, 'public key must be 33 bytes (compressed)');
  try {
    // decompression validates the point (on the curve, not infinity); the result is cached
    uncompressPublicKey(type, publicKey);
  } catch {
    throw new InvalidMessageError(ERR.ENCODING, 'public key is not a point on its curve');
  }
}

const uncompressedCache = new Map<string, Uint8Array>();

/** 65-byte uncompressed form of a compressed key (cached: decompression costs a square root). */
export function uncompressPublicKey(type: KeyType, publicKey: Uint8Array): Uint8Array {
  const k = type + bytesKey(publicKey);
  let u = uncompressedCache.get(k);
  if (!u) {
    const p = curveOf(type).Point.fromBytes(publicKey);
    p.assertValidity();
    u = p.toBytes(false);
    if (uncompressedCache.size > 50_000) uncompressedCache.clear();
    uncompressedCache.set(k, u);
  }
  return u;
}

const P256_ADDRESS_TAG = new Uint8Array([0x01]);

/**
 * Address = last 20 bytes of keccak256 of the uncompressed public key without its 0x04 prefix
 * (Ethereum's rule) for secp256k1; for P-256 the hashed bytes are prefixed with the tag 0x01, so a
 * P-256 address is never the address of a secp256k1 key with the same coordinates.
 */
const addressCache = new Map<string, Uint8Array>();

export function addressOf(type: KeyType, publicKey: Uint8Array): Uint8Array {
  const k = type + bytesKey(publicKey);
  const cached = addressCache.get(k);
  if (cached) return cached.slice();
  const xy = uncompressPublicKey(type, publicKey).subarray(1);
  const h = type === KeyType.p256 ? keccak256(concatBytes(P256_ADDRESS_TAG, xy)) : keccak256(xy);
  const a = h.slice(12);
  if (addressCache.size > 50_000) addressCache.clear();
  addressCache.set(k, a);
  return a.slice();
}

/** A transaction sender: its address and the address as 0x-hex. Shared: never mutate `address`. */
export interface Sender {
  readonly address: Uint8Array;
  readonly hex: string;
}

const senderCache = new Map<string, Sender>();

/**
 * Validates a compressed public key (as assertPublicKey: InvalidMessageError if it is not 33 bytes
 * or not a point) and returns its sender: one cache lookup per transaction decode instead of the
 * three (point check, address, hex) it cost, and no per-transaction copy of the address.
 */
export function senderOf(type: KeyType, publicKey: Uint8Array): Sender {
  const k = type + bytesKey(publicKey);
  let s = senderCache.get(k);
  if (s === undefined) {
    assertPublicKey(type, publicKey); // only valid keys are cached, so a hit needs no check
    const address = addressOf(type, publicKey);
    s = Object.freeze({ address, hex: toHex(address) });
    if (senderCache.size > 50_000) senderCache.clear();
    senderCache.set(k, s);
  }
  return s;
}

/** EIP-55 mixed-case checksum encoding of a 20-byte address. */
export function toChecksumAddress(address: Uint8Array): string {
  if (address.length !== 20) throw new RangeError('address must be 20 bytes');
  const hex = toHex(address).slice(2);
  const hash = toHex(keccak256(new TextEncoder().encode(hex))).slice(2);
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(hash[i]!, 16) >= 8 ? hex[i]!.toUpperCase() : hex[i]!;
  return out;
}

/**
 * Parses a 0x address. All-lower or all-upper hex is accepted as is; mixed case must be a valid
 * EIP-55 checksum (a mistyped address is refused rather than sent to).
 */
export function parseAddress(s: string, what = 'address'): Uint8Array {
  if (typeof s !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(s)) {
    throw new InvalidMessageError(ERR.ENCODING, `${what} must be 0x followed by 40 hex digits`);
  }
  const bytes = fromHex(s.toLowerCase(), what, 20);
  const body = s.slice(2);
  const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixed && toChecksumAddress(bytes) !== s) throw new InvalidMessageError(ERR.ENCODING, `${what} has an invalid EIP-55 checksum`);
  return bytes;
}
