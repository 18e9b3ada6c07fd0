// Persisted chain data: blocks, certificates, tx results, the tx index and the head pointer.
// Writes are returned as batch ops so a block, its results, its certificate, its state and the
// head pointer are committed in one atomic LevelDB batch.
import type { KvStore, BatchOp } from './kvStore.js';
import { PREFIX, prefixed } from './prefixes.js';
import { uintBE, utf8 } from '../lib/hex.js';
import { encode, decode, struct, tuple, u53, bytes32, minimalUint, type Codec } from '../lib/encoding.js';
import { blockCodec, commitCertificateCodec, txResultsCodec, encodeTxResultsList, MAX_BLOCK_BYTES, type Block, type CommitCertificate, type TxResult } from './block.js';
import { InternalError, ERR } from '../lib/errors.js';

export interface Head {
  height: number;
  hash: Uint8Array;
  time: number;
  stateRoot: Uint8Array;
}

const headCodec: Codec<Head> = struct<Head>({ height: u53, hash: bytes32, time: u53, stateRoot: bytes32 }, ['height', 'hash', 'time', 'stateRoot']);
export const txLocCodec = tuple<[number, number]>(u53, u53);

const HEAD_KEY = prefixed(PREFIX.META, utf8('head'));
const h8 = (h: number) => uintBE(h, 8);
const blockKey = (h: number) => prefixed(PREFIX.BLOCK, h8(h));
const certKey = (h: number) => prefixed(PREFIX.CERT, h8(h));

function corrupt(what: string, e: unknown): never {
  throw new InternalError(ERR.DB_CORRUPT, `database row ${what} is corrupt: ${(e as Error).message}`);
}

function read<T>(store: KvStore, key: Uint8Array, codec: Codec<T>, what: string, max?: number): T | undefined {
  const raw = store.get(key);
  if (!raw) return undefined;
  try {
    return decode(codec, raw, what, max);
  } catch (e) {
    return corrupt(what, e);
  }
}

export class BlockStore {
  constructor(private readonly store: KvStore) {}

  head(): Head | undefined {
    return read(this.store, HEAD_KEY, headCodec, 'head');
  }

  headOps(head: Head): BatchOp[] {
    return [{ type: 'put', key: HEAD_KEY, value: encode(headCodec, head) }];
  }

  /**
   * `encodedResults`: the results' encodings (encodeTxResults: the same bytes the results root was
   * computed over); `encodedBlock`: encodeBlock(block) when the caller has it (stored as given).
   */
  blockOps(block: Block, hash: Uint8Array, txIds: Uint8Array[], encodedResults: Uint8Array[], cert: CommitCertificate, encodedBlock?: Uint8Array): BatchOp[] {
    const h = block.header.height;
    const ops: BatchOp[] = [
      { type: 'put', key: blockKey(h), value: encodedBlock ?? encode(blockCodec, block) },
      { type: 'put', key: certKey(h), value: encode(commitCertificateCodec, cert) },
      { type: 'put', key: prefixed(PREFIX.RESULTS, h8(h)), value: encodeTxResultsList(encodedResults) },
      { type: 'put', key: prefixed(PREFIX.BLOCK_HASH, hash), value: h8(h) },
    ];
    // tx index rows [height, index]: the height's bytes once per block, then the index in msgpack's
    // minimal uint form (byte-equal to encode(txLocCodec, [h, i]))
    const withZero = encode(txLocCodec, [h, 0]);
    const head = withZero.subarray(0, withZero.length - 1);
    txIds.forEach((id, i) => {
      const tail = minimalUint(i);
      const value = new Uint8Array(head.length + tail.length);
      value.set(head, 0);
      value.set(tail, head.length);
      ops.push({ type: 'put', key: prefixed(PREFIX.TX_INDEX, id), value });
    });
    return ops;
  }

  block(height: number): Block | undefined {
    return read(this.store, blockKey(height), blockCodec, `block ${height}`, MAX_BLOCK_BYTES);
  }

  /** The stored bytes of block `height` (its canonical encoding), undecoded: block sync serves them as they are. */
  rawBlock(height: number): Uint8Array | undefined {
    return this.store.get(blockKey(height));
  }

  /** The stored bytes of the certificate of `height`, undecoded. */
  rawCertificate(height: number): Uint8Array | undefined {
    return this.store.get(certKey(height));
  }

  certificate(height: number): CommitCertificate | undefined {
    return read(this.store, certKey(height), commitCertificateCodec, `certificate ${height}`);
  }

  /** Replaces the stored certificate (e.g. a later, fuller certificate for the same block). */
  certificateOps(cert: CommitCertificate): BatchOp[] {
    return [{ type: 'put', key: certKey(cert.height), value: encode(commitCertificateCodec, cert) }];
  }

  results(height: number): TxResult[] | undefined {
    return read(this.store, prefixed(PREFIX.RESULTS, h8(height)), txResultsCodec, `results ${height}`);
  }

  txLocation(id: Uint8Array): { height: number; index: number } | undefined {
    const loc = read(this.store, prefixed(PREFIX.TX_INDEX, id), txLocCodec, 'tx index');
    return loc ? { height: loc[0], index: loc[1] } : undefined;
  }
}

export const GENESIS_HASH = new Uint8Array(32);
