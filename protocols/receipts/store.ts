import { bytes20, bytes32, decode, encode } from '../../lib/encoding.js';
import type { ModuleReader, ModuleStore } from '../module.js';
import { anchorRecordCodec, tableHeadCodec } from './codec.js';
import { anchorKey, batchKey, headKey, rootKey } from './keys.js';
import type { AnchorRecord, TableHead } from './types.js';

/** Point reads only, so every query built on it is provable. */
export class ReceiptsReader {
  constructor(protected readonly r: ModuleReader) {}

  anchor(submitter: Uint8Array, root: Uint8Array): AnchorRecord | undefined {
    const raw = this.r.get(anchorKey(submitter, root));
    return raw ? decode(anchorRecordCodec, raw, 'receipts anchor') : undefined;
  }

  /** The first submitter that anchored `root`. */
  firstSubmitter(root: Uint8Array): Uint8Array | undefined {
    const raw = this.r.get(rootKey(root));
    return raw ? decode(bytes20, raw, 'receipts root index') : undefined;
  }

  head(submitter: Uint8Array, table: string): TableHead | undefined {
    const raw = this.r.get(headKey(submitter, table));
    return raw ? decode(tableHeadCodec, raw, 'receipts table head') : undefined;
  }

  batchRoot(submitter: Uint8Array, table: string, index: number): Uint8Array | undefined {
    const raw = this.r.get(batchKey(submitter, table, index));
    return raw ? decode(bytes32, raw, 'receipts batch index') : undefined;
  }
}

export class ReceiptsStore extends ReceiptsReader {
  constructor(private readonly s: ModuleStore) {
    super(s);
  }

  /** Writes the anchor, its batch entry and the table head; the root index keeps its first submitter. */
  putAnchor(root: Uint8Array, rec: AnchorRecord): void {
    this.s.set(anchorKey(rec.submitter, root), encode(anchorRecordCodec, rec));
    this.s.set(batchKey(rec.submitter, rec.meta.table, rec.batch), encode(bytes32, root));
    this.s.set(headKey(rec.submitter, rec.meta.table), encode(tableHeadCodec, { count: rec.batch + 1, lastId: rec.meta.lastId, lastRoot: root }));
    if (!this.s.has(rootKey(root))) this.s.set(rootKey(root), encode(bytes20, rec.submitter));
  }
}
