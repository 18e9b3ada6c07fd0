import { bytes20, bytes32, str, struct, u53, type Codec } from '../../lib/encoding.js';
import { InvalidMessageError } from '../../lib/errors.js';
import { RECEIPTS_ERR } from './errors.js';
import { MAX_SUBTABLES, TABLE_NAME_RE, type AnchorMeta, type AnchorRecord, type StoreRootHashArgs, type TableHead } from './types.js';

export const tableNameCodec: Codec<string> = str(64, TABLE_NAME_RE);

export const anchorMetaCodec: Codec<AnchorMeta> = struct<AnchorMeta>(
  { table: tableNameCodec, m: u53, n: u53, firstId: u53, lastId: u53 },
  ['table', 'm', 'n', 'firstId', 'lastId'],
);

export const storeRootHashArgsCodec: Codec<StoreRootHashArgs> = struct<StoreRootHashArgs>({ hash: bytes32, meta: anchorMetaCodec }, ['hash', 'meta']);

export const anchorRecordCodec: Codec<AnchorRecord> = struct<AnchorRecord>(
  { submitter: bytes20, signer: bytes20, height: u53, time: u53, txHash: bytes32, batch: u53, meta: anchorMetaCodec },
  ['submitter', 'signer', 'height', 'time', 'txHash', 'batch', 'meta'],
);

export const tableHeadCodec: Codec<TableHead> = struct<TableHead>({ count: u53, lastId: u53, lastRoot: bytes32 }, ['count', 'lastId', 'lastRoot']);

/** Stateless bounds of a batch description; throws InvalidMessageError(RECEIPTS_BAD_META). */
export function validateMeta(meta: AnchorMeta): void {
  const bad = (what: string): never => {
    throw new InvalidMessageError(RECEIPTS_ERR.BAD_META, `meta: ${what}`);
  };
  if (meta.m < 1) bad('m must be at least 1');
  if (meta.n < 1 || meta.n > MAX_SUBTABLES) bad(`n must be in 1..${MAX_SUBTABLES}`);
  if (meta.lastId < meta.firstId) bad(`lastId ${meta.lastId} is below firstId ${meta.firstId}`);
  if (meta.lastId - meta.firstId + 1 < meta.m) bad(`the id range ${meta.firstId}..${meta.lastId} cannot hold m = ${meta.m} rows`);
}

export function validateStoreRootHash(args: StoreRootHashArgs): void {
  validateMeta(args.meta);
}
