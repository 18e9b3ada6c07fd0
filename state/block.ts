// Blocks, tx results, validators and commit certificates (SPEC §1 "Blocks", §2).
// Execution comes before voting: the header carries the state root *after* this block, the results
// root and the validator-set hash; a block is final once it carries a commit certificate — 2f+1
// validator signatures over (chain id, height, view, block hash). A single validator signs 1-of-1
// certificates in the same format, so clients verify the same way everywhere.
import { struct, tuple, list, u16, u53, str, bytes, bytes20, bytes32, bytes33, bytes64, encode, decode, readBytesList, skipScalars, type Codec } from '../lib/encoding.js';
import { keccak256, DOMAIN } from '../crypto/hash.js';
import { merkleRoot } from '../crypto/merkle.js';
import { verify } from '../crypto/sign.js';
import { KeyType, addressOf } from '../crypto/keys.js';
import { bytesEqual, concatBytes, toHex } from '../lib/hex.js';
import { CHAIN_ID_RE, MAX_TX_BYTES } from './tx.js';
import { writeTxResults, type ResultBounds } from './resultWire.js';

export const MAX_BLOCK_TXS = 10_000;
export const MAX_VALIDATORS = 256;

export interface Validator {
  name: string;
  /** P-256 compressed public key used to sign consensus messages (verified with node:crypto). */
  consensusKey: Uint8Array;
  /** libp2p peer id (string form). */
  peerId: string;
  power: number;
}

export const validatorCodec: Codec<Validator> = struct<Validator>(
  { name: str(64), consensusKey: bytes33, peerId: str(128), power: u53 },
  ['name', 'consensusKey', 'peerId', 'power'],
);
export const validatorSetCodec = list(validatorCodec, MAX_VALIDATORS);

export function validatorSetHash(validators: Validator[]): Uint8Array {
  return keccak256(encode(validatorSetCodec, validators));
}

/** Address of a validator's consensus key (P-256 address rule). */
export function validatorAddress(v: Validator): Uint8Array {
  return addressOf(KeyType.p256, v.consensusKey);
}

/**
 * Commit quorum for n validators: the smallest q with 2q - n ≥ f + 1 (any two quorums share an
 * honest validator), f = floor((n-1)/3) — 2f+1 for n = 3f+1, 1 for n = 1. Same formula as the PBFT core.
 */
export function quorum(n: number): number {
  return Math.floor((n + Math.floor((n - 1) / 3)) / 2) + 1;
}

export interface BlockHeader {
  chainId: string;
  height: number;
  /** Block time, ms since the UNIX epoch, agreed by consensus. */
  time: number;
  prevHash: Uint8Array;
  txRoot: Uint8Array;
  stateRoot: Uint8Array;
  resultsRoot: Uint8Array;
  /** Address of the proposer's consensus key. */
  proposer: Uint8Array;
  validatorSetHash: Uint8Array;
}

export const headerCodec: Codec<BlockHeader> = struct<BlockHeader>(
  {
    chainId: str(64, CHAIN_ID_RE),
    height: u53,
    time: u53,
    prevHash: bytes32,
    txRoot: bytes32,
    stateRoot: bytes32,
    resultsRoot: bytes32,
    proposer: bytes20,
    validatorSetHash: bytes32,
  },
  ['chainId', 'height', 'time', 'prevHash', 'txRoot', 'stateRoot', 'resultsRoot', 'proposer', 'validatorSetHash'],
);

export interface Block {
  header: BlockHeader;
  /** Raw signed transactions, in execution order. */
  txs: Uint8Array[];
}

export const MAX_BLOCK_BYTES = 8 * 1024 * 1024;

export const blockCodec: Codec<Block> = struct<Block>({ header: headerCodec, txs: list(bytes(MAX_TX_BYTES), MAX_BLOCK_TXS) }, ['header', 'txs']);

export function encodeBlock(b: Block): Uint8Array {
  return encode(blockCodec, b);
}
/**
 * decode(blockCodec, raw), faster for the canonical form: [header, txs] is read as the header's own
 * bytes (decoded, and checked canonical, by headerCodec) followed by the tx list read directly
 * (lib/encoding.ts readBytesList), without msgpack-parsing and re-encoding hundreds of txs. Anything
 * else, or a header its codec refuses, goes to the codec, which decodes or refuses with its message.
 */
export function decodeBlock(raw: Uint8Array): Block {
  if (raw.length <= MAX_BLOCK_BYTES && raw[0] === 0x92 && raw[1] === 0x99) {
    const headerEnd = skipScalars(raw, 2, 9);
    const list = headerEnd === undefined ? undefined : readBytesList(raw, headerEnd, MAX_BLOCK_TXS, MAX_TX_BYTES);
    if (list !== undefined && list[1] === raw.length) {
      try {
        return { header: decode(headerCodec, raw.subarray(1, headerEnd), 'block header'), txs: list[0] };
      } catch {
        // the codec below gives the error, with its own path
      }
    }
  }
  return decode(blockCodec, raw, 'block', MAX_BLOCK_BYTES);
}

export function blockHash(header: BlockHeader): Uint8Array {
  return keccak256(encode(headerCodec, header));
}

export function txRoot(txs: Uint8Array[]): Uint8Array {
  return merkleRoot(txs);
}

/** An event emitted by a handler: string attributes, for display, indexing and subscriptions. */
export interface TxEvent {
  module: string;
  type: string;
  attributes: [string, string][];
}

export const MAX_EVENTS_PER_TX = 64;
/** Byte and item limits of results and events (the codecs below, and state/resultWire.ts). */
const RESULT_BOUNDS: ResultBounds = { code: 64, message: 512, events: MAX_EVENTS_PER_TX, module: 32, type: 64, attributes: 32, key: 64, value: 1024 };
const B = RESULT_BOUNDS;

export const eventCodec: Codec<TxEvent> = struct<TxEvent>(
  { module: str(B.module), type: str(B.type), attributes: list(tuple<[string, string]>(str(B.key), str(B.value)), B.attributes) },
  ['module', 'type', 'attributes'],
);

/** Result of one transaction in a block. `code` is '' on success. */
export interface TxResult {
  code: string;
  message: string;
  events: TxEvent[];
}

export const txResultCodec: Codec<TxResult> = struct<TxResult>(
  { code: str(B.code), message: str(B.message), events: list(eventCodec, B.events) },
  ['code', 'message', 'events'],
);
export const txResultsCodec = list(txResultCodec, MAX_BLOCK_TXS);

const encodeTxResult = (r: TxResult): Uint8Array => encode(txResultCodec, r);

/**
 * The canonical encoding of each result: the leaves of resultsRoot, and the items of the stored list
 * (written directly by state/resultWire.ts where it can, byte-equal to encode(txResultCodec, r)).
 */
export function encodeTxResults(results: TxResult[]): Uint8Array[] {
  return writeTxResults(results, RESULT_BOUNDS, encodeTxResult);
}

export function resultsRoot(results: TxResult[]): Uint8Array {
  return resultsRootOfEncoded(encodeTxResults(results));
}

export function resultsRootOfEncoded(items: Uint8Array[]): Uint8Array {
  return merkleRoot(items);
}

/**
 * encode(txResultsCodec, results) from the results' own encodings (encodeTxResults), so a block's
 * results are encoded once for the root and the store: a msgpack list is its minimal array header
 * followed by its items.
 */
export function encodeTxResultsList(items: Uint8Array[]): Uint8Array {
  const n = items.length;
  if (n > MAX_BLOCK_TXS) throw new RangeError(`list of ${n} results, limit ${MAX_BLOCK_TXS}`);
  const head = n < 16 ? [0x90 | n] : [0xdc, n >> 8, n & 0xff]; // fixarray, or array16 (MAX_BLOCK_TXS < 2^16)
  let len = head.length;
  for (const it of items) len += it.length;
  const out = new Uint8Array(len);
  out.set(head, 0);
  let at = head.length;
  for (const it of items) {
    out.set(it, at);
    at += it.length;
  }
  return out;
}

export interface CommitVote {
  validatorIndex: number;
  signature: Uint8Array;
}

export interface CommitCertificate {
  height: number;
  view: number;
  blockHash: Uint8Array;
  votes: CommitVote[];
}

export const commitCertificateCodec: Codec<CommitCertificate> = struct<CommitCertificate>(
  {
    height: u53,
    view: u53,
    blockHash: bytes32,
    votes: list(struct<CommitVote>({ validatorIndex: u16, signature: bytes64 }, ['validatorIndex', 'signature']), MAX_VALIDATORS),
  },
  ['height', 'view', 'blockHash', 'votes'],
);

/** Bytes a validator signs to commit a block: DOMAIN.commitVote ‖ [chainId, height, view, blockHash]. */
export function commitVoteBytes(chainId: string, height: number, view: number, hash: Uint8Array): Uint8Array {
  return concatBytes(DOMAIN.commitVote, encode(tuple<[string, number, number, Uint8Array]>(str(64), u53, u53, bytes32), [chainId, height, view, hash]));
}

export type VerifyCommitResult = { ok: true } | { ok: false; reason: string };

/**
 * Client-side check that `cert` finalizes `header` under `validators` (the set in force at that
 * height): the certificate names this header's hash and height, the header names this validator set,
 * and at least quorum(n) distinct validators signed the commit bytes with their consensus keys.
 */
export function verifyCommit(validators: Validator[], header: BlockHeader, cert: CommitCertificate): VerifyCommitResult {
  const hash = blockHash(header);
  if (cert.height !== header.height) return { ok: false, reason: `certificate is for height ${cert.height}, header is ${header.height}` };
  if (!bytesEqual(cert.blockHash, hash)) return { ok: false, reason: 'certificate names a different block hash' };
  if (!bytesEqual(header.validatorSetHash, validatorSetHash(validators))) return { ok: false, reason: 'header names a different validator set' };
  const msg = commitVoteBytes(header.chainId, cert.height, cert.view, cert.blockHash);
  const seen = new Set<number>();
  for (const v of cert.votes) {
    if (seen.has(v.validatorIndex)) return { ok: false, reason: `validator ${v.validatorIndex} signed twice` };
    seen.add(v.validatorIndex);
    const val = validators[v.validatorIndex];
    if (!val) return { ok: false, reason: `unknown validator index ${v.validatorIndex}` };
    if (!verify(KeyType.p256, val.consensusKey, msg, v.signature)) return { ok: false, reason: `bad signature from validator ${v.validatorIndex} (${val.name})` };
  }
  const need = quorum(validators.length);
  if (seen.size < need) return { ok: false, reason: `${seen.size} signatures, quorum is ${need}` };
  return { ok: true };
}

export function headerToJson(h: BlockHeader): Record<string, unknown> {
  return {
    chainId: h.chainId,
    height: h.height,
    time: h.time,
    prevHash: toHex(h.prevHash),
    txRoot: toHex(h.txRoot),
    stateRoot: toHex(h.stateRoot),
    resultsRoot: toHex(h.resultsRoot),
    proposer: toHex(h.proposer),
    validatorSetHash: toHex(h.validatorSetHash),
  };
}
