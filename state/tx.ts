// Transactions (SPEC §1 "Transactions").
// Signed body: [version, chainId, keyType, publicKey (33-byte compressed), nonce, moduleId, methodId,
// args, fee]. Wire form: [body, signature]. The sender's address is derived from the public key; the
// tx id is SHA-256 of the encoded body (without the signature; OpenSSL hashes it far faster than a JS keccak); the signature is ECDSA (low-s) over
// SHA-256(DOMAIN.tx ‖ encoded body) — the body contains the chain id, so a signature is valid on one
// chain only and, with the domain tag, as one kind of message only.
import { struct, mapCodec, u8, u16, u53, str, bytes, bytes33, bytes64, amount, encode, decode, type Codec } from '../lib/encoding.js';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { toHex } from '../lib/hex.js';
import { sha256, DOMAIN } from '../crypto/hash.js';
import { concatBytes, bytesKey } from '../lib/hex.js';
import { isKeyType, senderOf, type KeyType, type KeyPair } from '../crypto/keys.js';
import { sign, verify, isLowS } from '../crypto/sign.js';
import { TwoGenerationCache } from '../lib/twoGenCache.js';
import { readCanonicalTx } from './txWire.js';

export const TX_VERSION = 1;
/** Largest encoded transaction accepted anywhere (mempool, block, RPC). */
export const MAX_TX_BYTES = 64 * 1024;
/** Largest encoded args of one transaction. */
export const MAX_ARGS_BYTES = 60 * 1024;
export const CHAIN_ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface TxBody {
  version: number;
  chainId: string;
  keyType: KeyType;
  publicKey: Uint8Array;
  nonce: number;
  moduleId: number;
  methodId: number;
  /** Canonical encoding of the method's args tuple (decoded by the module's codec). */
  args: Uint8Array;
  fee: bigint;
}

export interface SignedTx {
  body: TxBody;
  signature: Uint8Array;
}

const bodyStruct = struct<TxBody>(
  {
    version: u8,
    chainId: str(64, CHAIN_ID_RE),
    keyType: u8 as Codec<KeyType>,
    publicKey: bytes33,
    nonce: u53,
    moduleId: u16,
    methodId: u16,
    args: bytes(MAX_ARGS_BYTES),
    fee: amount,
  },
  ['version', 'chainId', 'keyType', 'publicKey', 'nonce', 'moduleId', 'methodId', 'args', 'fee'],
);

export const txBodyCodec: Codec<TxBody> = mapCodec<TxBody, TxBody>(
  bodyStruct,
  (b) => b,
  (b, path) => {
    if (b.version !== TX_VERSION) throw new InvalidMessageError(ERR.ENCODING, `${path}: unsupported tx version ${b.version}`);
    if (!isKeyType(b.keyType)) throw new InvalidMessageError(ERR.ENCODING, `${path}: unknown key type ${b.keyType}`);
    return b;
  },
);

export const signedTxCodec: Codec<SignedTx> = struct<SignedTx>({ body: txBodyCodec, signature: bytes64 }, ['body', 'signature']);

export function encodeTxBody(body: TxBody): Uint8Array {
  return encode(txBodyCodec, body);
}

/** Transaction id: SHA-256 of the canonical body encoding. */
export function txIdOf(body: TxBody): Uint8Array {
  return sha256(encodeTxBody(body));
}

export function encodeTx(tx: SignedTx): Uint8Array {
  return encode(signedTxCodec, tx);
}

/** A decoded transaction with its derived fields computed once. */
export interface DecodedTx extends SignedTx {
  /** Exact wire bytes. */
  raw: Uint8Array;
  /** SHA-256 of the encoded body. */
  id: Uint8Array;
  idHex: string;
  /** Sender address (20 bytes) derived from the public key (shared by the sender's txs). */
  sender: Uint8Array;
  senderHex: string;
}

const WIRE_RULES = { version: TX_VERSION, maxArgsBytes: MAX_ARGS_BYTES, chainIdRe: CHAIN_ID_RE };

/**
 * Stateless decoding: canonical encoding, size limits, version, key type, a valid public key.
 * Does NOT verify the signature (see verifyTxSignature) or anything against state.
 */
export function decodeTx(raw: Uint8Array): DecodedTx {
  // the canonical form read directly (state/txWire.ts); anything else through the generic codec
  const tx = (raw.length <= MAX_TX_BYTES ? readCanonicalTx(raw, WIRE_RULES) : undefined) ?? decode(signedTxCodec, raw, 'tx', MAX_TX_BYTES);
  const who = senderOf(tx.body.keyType, tx.body.publicKey); // also validates the key
  const id = sha256(bodyOf(raw));
  const out: DecodedTx & Checked = { body: tx.body, signature: tx.signature, raw, id, idHex: toHex(id), sender: who.address, senderHex: who.hex, [SIG_CHECK]: undefined };
  return out;
}

/**
 * The outcome of a decoded tx's signature check, kept on the object itself (set once, by
 * verifyTxSignature; undefined until then). It was two WeakSets: an entry per tx per validator,
 * each a young key the scavenger had to process as an ephemeron.
 */
const SIG_CHECK = Symbol('signature check');
interface Checked {
  [SIG_CHECK]?: boolean | undefined;
}

/** The encoded body inside a canonical raw tx (a 1-byte array header, the body, then bin8 header (2) + 64 bytes). */
const bodyOf = (raw: Uint8Array): Uint8Array => raw.subarray(1, raw.length - 66);

/**
 * The bytes a tx's signature covers: DOMAIN.tx ‖ body. Built when verifying, not kept with the
 * decoded tx (which lives until its block commits: less for the scavenger to copy), in one
 * allocation from Buffer's pool (a `new Uint8Array` of over 64 bytes is an ArrayBuffer with its own
 * off-heap store, which every scavenge sweeps).
 */
export function txSignBytes(tx: DecodedTx): Uint8Array {
  const body = bodyOf(tx.raw);
  const out = Buffer.allocUnsafe(DOMAIN.tx.length + body.length);
  out.set(DOMAIN.tx, 0);
  out.set(body, DOMAIN.tx.length);
  return out;
}

export function signTx(body: TxBody, key: KeyPair): SignedTx {
  if (key.type !== body.keyType) throw new TypeError('key type does not match the body');
  return { body, signature: sign(key, concatBytes(DOMAIN.tx, encodeTxBody(body))) };
}

/** Builds, signs and encodes a transaction. */
export function buildTx(key: KeyPair, fields: Omit<TxBody, 'version' | 'keyType' | 'publicKey'>): Uint8Array {
  return encodeTx(signTx({ version: TX_VERSION, keyType: key.type, publicKey: key.publicKey, ...fields }, key));
}

/*
 * Each decoded tx's signature is checked once: decodeTxCached returns the same object for the same
 * raw bytes (signature included), so a tx checked when it entered the mempool is not verified again
 * when its block is executed, and a tx that failed is not verified again when it comes back (a peer
 * or client resending it, or admission after `verifyAhead` saw it). The outcome lives on the object
 * (SIG_CHECK), as long as the decoded tx.
 */
let signatureChecks = 0;

/** Verifies the signature (low-s, then the curve's verifier); each decoded tx at most once. */
export function verifyTxSignature(tx: DecodedTx): boolean {
  const c = tx as DecodedTx & Checked;
  const known = c[SIG_CHECK];
  if (known !== undefined) return known;
  signatureChecks++;
  const ok = verify(tx.body.keyType, tx.body.publicKey, txSignBytes(tx), tx.signature);
  c[SIG_CHECK] = ok;
  return ok;
}

/** Signature verifications run by verifyTxSignature so far in this process (tests, metrics). */
export function txSignatureChecks(): number {
  return signatureChecks;
}

/**
 * Runs checkTxStateless over `raws` one after the other, ahead of their admission one by one (which
 * then finds the decodes and signature outcomes cached): a batch's signature checks run back to back
 * instead of interleaved with mempool bookkeeping, the RPC or gossip code around each admission and
 * the microtasks between them, so OpenSSL's P-256 tables stay in the core's cache (BENCHMARKS.md,
 * session 11). Never throws: admission reports each tx's fault. `stopAtFailure`: the first failing tx
 * ends the pass (a gossip batch is refused at its first invalid tx anyway).
 */
export function verifyAhead(raws: readonly Uint8Array[], chainId: string, stopAtFailure = false): number {
  let passed = 0;
  for (const raw of raws) {
    try {
      checkTxStateless(raw, chainId);
      passed++;
    } catch {
      if (stopAtFailure) break;
    }
  }
  return passed;
}

const DECODED_CACHE_MAX = 20_000;
/** Bytes of raw txs the cache may hold (keys and decoded copies roughly triple it): large txs cannot fill memory. */
const DECODED_CACHE_MAX_BYTES = 16 * 1024 * 1024;
// Two generations of Maps (lib/twoGenCache.ts): O(1) with no per-hit bookkeeping. (A Map evicted from
// its front scanned its deleted entries on every insert once full; an LRU moves every hit.)
const decodedTxs = new TwoGenerationCache<string, DecodedTx>(DECODED_CACHE_MAX, { maxSize: DECODED_CACHE_MAX_BYTES, sizeOf: (tx) => tx.raw.length });

/**
 * decodeTx with a cache keyed by the raw bytes: a validator decodes each tx when it enters the
 * mempool and again when its block is proposed or processed; the second decode (msgpack, canonical
 * re-encode, SHA-256, key checks) is skipped. A DecodedTx depends on nothing but its bytes; callers
 * must not mutate it. Only valid encodings are cached; entries not used for a while go first, by
 * count and by bytes (a peer sending large, badly signed txs cannot grow it).
 */
export function decodeTxCached(raw: Uint8Array): DecodedTx {
  const known = (raw as Tagged)[DECODED];
  if (known !== undefined) return known;
  if (raw.length > MAX_TX_BYTES) return decodeTx(raw);
  const key = bytesKey(raw);
  let tx = decodedTxs.get(key) as (DecodedTx & Keyed) | undefined;
  if (tx === undefined) {
    tx = decodeTx(raw) as DecodedTx & Keyed; // throws for an invalid encoding: nothing is kept for it
    tx[CACHE_KEY] = key;
    decodedTxs.set(key, tx);
  }
  (raw as Tagged)[DECODED] = tx;
  return tx;
}

/**
 * The decoded tx of a raw bytes object already met, kept on the object itself: one tx's bytes object
 * is looked up several times in a row — verifyAhead, then admission, then (on the proposer, whose
 * block holds the mempool's objects) execution — and a property load is cheaper than turning 150
 * bytes into a string and hashing it, and than the identity-keyed Map of keys this replaces (seven
 * Map operations per tx per validator, and entries the scavenger had to trace). Raw tx bytes are
 * never mutated once received (the string-keyed cache relies on that too). Only valid encodings are
 * tagged, and a tag lives no longer than its bytes object (a mempool entry, a block being run).
 */
const DECODED = Symbol('decoded tx');
type Tagged = Uint8Array & { [DECODED]?: DecodedTx | undefined };
/** The decoded-tx cache's key of a decoded tx (its raw bytes as a bytesKey string), for forgetDecodedTxs. */
const CACHE_KEY = Symbol('decoded-tx cache key');
interface Keyed {
  [CACHE_KEY]?: string;
}

/**
 * Drops committed txs from the decoded-tx cache, which otherwise kept them ~20 s at 2,000 tx/s (two
 * generations of 10,000) in the old generation for nothing: fewer objects for every major GC to mark
 * and smaller maps (bench/compare.ts: 0.948 of the CPU per tx; the bytes each scavenge promotes did
 * not fall, since a pending tx outlives a scavenge anyway, BENCHMARKS.md session 5). A committed tx
 * met again (a late duplicate, block sync) is decoded again, and its nonce refuses it.
 */
export function forgetDecodedTxs(raws: readonly Uint8Array[]): void {
  for (const raw of raws) {
    if (raw.length > MAX_TX_BYTES) continue;
    const tagged = raw as Tagged;
    const tx = tagged[DECODED] as (DecodedTx & Keyed) | undefined;
    if (tx !== undefined) tagged[DECODED] = undefined;
    decodedTxs.delete(tx?.[CACHE_KEY] ?? bytesKey(raw));
  }
}

/** Entries and raw bytes held by the decoded-tx cache (tests, metrics). */
export function decodedTxCacheSize(): { entries: number; bytes: number } {
  return { entries: decodedTxs.size, bytes: decodedTxs.calculatedSize };
}

/** Stateless checks for a given chain: decode, chain id, signature. Throws InvalidMessageError. */
export function checkTxStateless(raw: Uint8Array, chainId: string): DecodedTx {
  const tx = decodeTxCached(raw);
  if (tx.body.chainId !== chainId) {
    throw new InvalidMessageError(ERR.WRONG_CHAIN, `transaction is for chain "${tx.body.chainId}", this is "${chainId}"`);
  }
  if ((tx as DecodedTx & Checked)[SIG_CHECK] === true) return tx;
  if (!isLowS(tx.body.keyType, tx.signature)) {
    throw new InvalidMessageError(ERR.HIGH_S, 'transaction signature is not low-s (s must be ≤ n/2) or r/s out of range');
  }
  if (!verifyTxSignature(tx)) {
    throw new InvalidMessageError(ERR.BAD_SIGNATURE, 'transaction signature does not verify against its public key');
  }
  return tx;
}
