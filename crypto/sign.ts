// ECDSA signatures: SHA-256 of the (domain-tagged) message, 64-byte r‖s, low-s only.
// Signing uses @noble/curves. Verification, after our own low-s and range check (OpenSSL accepts
// high-s signatures that noble rejects: without the check two nodes could disagree on a
// transaction's validity):
// - P-256: OpenSSL's ECDSA_do_verify through our small N-API addon (native/p256verify.c, built by
//   `npm install` where a compiler and Node's headers exist; crypto/native.ts loads it): ~9 % less validator CPU per tx than
//   node:crypto's verify, which sets up an EVP context per call (BENCHMARKS.md, session 10). Where
//   it is not built, node:crypto (OpenSSL too, 3–5× faster than noble here); the tests check that
//   both give the same answer;
// - secp256k1: libsecp256k1 through the `secp256k1` package's N-API binding (prebuilt for
//   linux-x64, darwin-arm64, win32-x64): ~20,000 verifications/s here against ~3,100/s for
//   OpenSSL, whose secp256k1 is generic code (BENCHMARKS.md). Where the binding cannot load, OpenSSL
//   is used; test/unit/crypto/sign.test.ts checks that both give the same answer.
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { loadBinding, ADDON_PATH } from './native.js';
import { KeyType, curveOf, type KeyPair } from './keys.js';
import { TwoGenerationCache } from '../lib/twoGenCache.js';
import { bytesKey } from '../lib/hex.js';

const SPKI_PREFIX: Record<KeyType, Buffer> = {
  // SEQUENCE { SEQUENCE { id-ecPublicKey, secp256k1 }, BIT STRING (33-byte compressed point) }
  [KeyType.secp256k1]: Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex'),
  // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (33-byte compressed point) }
  [KeyType.p256]: Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
};

const ORDER: Record<KeyType, bigint> = {
  [KeyType.secp256k1]: curveOf(KeyType.secp256k1).Point.CURVE().n,
  [KeyType.p256]: curveOf(KeyType.p256).Point.CURVE().n,
};

/** Signs `message` (hashed with SHA-256) and returns a 64-byte low-s r‖s signature. */
export function sign(key: Pick<KeyPair, 'type' | 'privateKey'>, message: Uint8Array): Uint8Array {
  return curveOf(key.type).sign(message, key.privateKey, { prehash: true, lowS: true, format: 'compact' });
}

const JWK_CURVE: Record<KeyType, string> = { [KeyType.secp256k1]: 'secp256k1', [KeyType.p256]: 'P-256' };
/** node:crypto private keys, per private-key buffer (a WeakMap: the key object lives as long as the caller's key). */
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

function privateKeyObject(type: KeyType, privateKey: Uint8Array): KeyObject {
  let k = privateKeys.get(privateKey);
  if (k === undefined) {
    const u = curveOf(type).getPublicKey(privateKey, false);
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
    k = createPrivateKey({ format: 'jwk', key: { kty: 'EC', crv: JWK_CURVE[type], d: b64(privateKey), x: b64(u.subarray(1, 33)), y: b64(u.subarray(33, 65)) } });
    privateKeys.set(privateKey, k);
  }
  return k;
}

/**
 * Signs like `sign` (SHA-256, 64-byte r‖s, low-s) through OpenSSL, ~30× faster than @noble/curves
 * here (35–54 against 785–1,130 µs for P-256, bench/sigCost.ts), with a random nonce instead of RFC 6979's
 * deterministic one: two signatures of one message differ, and both verify. For what the node signs
 * on its hot path (consensus votes, every phase of every block); `sign` stays for tx building.
 */
export function signFast(key: Pick<KeyPair, 'type' | 'privateKey'>, message: Uint8Array): Uint8Array {
  const sig = nodeSign('sha256', message, { key: privateKeyObject(key.type, key.privateKey), dsaEncoding: 'ieee-p1363' });
  const s = BigInt('0x' + sig.subarray(32).toString('hex'));
  const n = ORDER[key.type];
  const out = new Uint8Array(64);
  out.set(sig.subarray(0, 32), 0);
  out.set(s > n >> 1n ? Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex') : sig.subarray(32), 32);
  return out;
}

/** Big-endian 32-byte forms of n − 1 and ⌊n/2⌋ per curve, for range checks without bigints. */
const be32 = (v: bigint): Uint8Array => Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));
const N_MINUS_1: Record<KeyType, Uint8Array> = { [KeyType.secp256k1]: be32(ORDER[KeyType.secp256k1] - 1n), [KeyType.p256]: be32(ORDER[KeyType.p256] - 1n) };
const HALF_N: Record<KeyType, Uint8Array> = { [KeyType.secp256k1]: be32(ORDER[KeyType.secp256k1] >> 1n), [KeyType.p256]: be32(ORDER[KeyType.p256] >> 1n) };

/** sig[off .. off+32) as a big-endian number: ≥ 1 and ≤ max (max is 32 bytes, big-endian). */
function inRange(sig: Uint8Array, off: number, max: Uint8Array): boolean {
  let nonZero = false;
  let cmp = 0; // sign of (value − max), decided by the first differing byte
  for (let i = 0; i < 32; i++) {
    const b = sig[off + i]!;
    if (b !== 0) nonZero = true;
    if (cmp === 0 && b !== max[i]) cmp = b < max[i]! ? -1 : 1;
  }
  return nonZero && cmp <= 0;
}

/** r and s in [1, n-1] and s ≤ n/2. */
export function isLowS(type: KeyType, signature: Uint8Array): boolean {
  return signature.length === 64 && inRange(signature, 0, N_MINUS_1[type]) && inRange(signature, 32, HALF_N[type]);
}

/** node:crypto KeyObjects for compressed public keys; importing one costs ~140 µs, so they are cached. */
const keyCache = new TwoGenerationCache<string, KeyObject>(20_000);

function keyObject(type: KeyType, publicKey: Uint8Array): KeyObject {
  const id = type + bytesKey(publicKey);
  let k = keyCache.get(id);
  if (k === undefined) {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX[type], publicKey]), format: 'der', type: 'spki' });
    keyCache.set(id, k);
  }
  return k;
}

interface Secp256k1Binding {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
}

/** libsecp256k1's verify, or undefined where its prebuilt binding does not load. */
const secp256k1Native = loadBinding<Secp256k1Binding>('IOTCHAIN_SECP256K1', 'openssl', 'secp256k1/bindings.js');

/** Which implementation verifies secp256k1 signatures in this process. */
export const SECP256K1_VERIFIER: 'libsecp256k1' | 'openssl' = secp256k1Native ? 'libsecp256k1' : 'openssl';

interface P256Binding {
  /** A parsed key, or null when the 33 bytes are not a point of the curve. */
  importKey(publicKey: Uint8Array): object | null;
  verify(key: object, message: Uint8Array, signature: Uint8Array): boolean;
}

/** native/p256verify.c in our addon, or undefined where `npm install` did not build it (or IOTCHAIN_P256=openssl). */
const p256Native = loadBinding<P256Binding>('IOTCHAIN_P256', 'openssl', ADDON_PATH);

/** Which implementation verifies P-256 signatures in this process. */
export const P256_VERIFIER: 'native' | 'openssl' = p256Native ? 'native' : 'openssl';

/** Parsed keys of the native verifier (null: not a curve point), cached like the KeyObjects. */
const nativeKeys = new TwoGenerationCache<string, object | null>(20_000);

/** The native P-256 path. Exported for the differential test; callers use `verify`. */
export function verifyP256Native(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!p256Native) throw new Error('the native P-256 verifier is not built (npm install builds native/p256verify.c)');
  return publicKey.length === 33 && isLowS(KeyType.p256, signature) && nativeP256(p256Native, publicKey, message, signature);
}

/** The native call, on a 33-byte key and a range-checked low-s signature (`verify` checks once). */
function nativeP256(binding: P256Binding, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const id = bytesKey(publicKey);
    let k = nativeKeys.get(id);
    if (k === undefined) {
      k = binding.importKey(publicKey);
      nativeKeys.set(id, k);
    }
    return k !== null && binding.verify(k, message, signature);
  } catch {
    return false; // only arguments of the wrong kind throw (a message that is not a Uint8Array); verify never throws
  }
}

/**
 * Verifies a 64-byte signature over SHA-256(message). Returns false (never throws) for a malformed
 * key or signature, a high-s signature or a wrong signature.
 */
export function verify(type: KeyType, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 33 || !isLowS(type, signature)) return false;
  if (type === KeyType.secp256k1 && secp256k1Native) {
    try {
      return secp256k1Native.ecdsaVerify(signature, createHash('sha256').update(message).digest(), publicKey);
    } catch {
      return false; // unparsable public key (the signature was range-checked above)
    }
  }
  if (type === KeyType.p256 && p256Native) return nativeP256(p256Native, publicKey, message, signature);
  return nodeCryptoVerify(type, publicKey, message, signature);
}

/** The node:crypto OpenSSL path (P-256 where the native verifier is not built; secp256k1 where libsecp256k1 is not available). Exported for the differential test. */
export function verifyOpenSsl(type: KeyType, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return publicKey.length === 33 && isLowS(type, signature) && nodeCryptoVerify(type, publicKey, message, signature);
}

/** node:crypto's verify, on a 33-byte key and a range-checked low-s signature (`verify` checks once). */
function nodeCryptoVerify(type: KeyType, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  let key: KeyObject;
  try {
    key = keyObject(type, publicKey);
  } catch {
    return false;
  }
  try {
    return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
