// Receipts key space (relative to the module prefix; README.md "State").
import { concatBytes, uintBE, utf8 } from '../../lib/hex.js';

const ANCHOR = 0x61; // 'a' ‖ submitter(20) ‖ root(32)                  → AnchorRecord
const ROOT = 0x72; // 'r' ‖ root(32)                                    → first submitter (20 bytes)
const HEAD = 0x68; // 'h' ‖ submitter(20) ‖ table                      → TableHead
const BATCH = 0x62; // 'b' ‖ submitter(20) ‖ table ‖ u64be(batch index) → root (32 bytes)

export const ANCHOR_PREFIX = new Uint8Array([ANCHOR]);
export const ROOT_PREFIX = new Uint8Array([ROOT]);
export const HEAD_PREFIX = new Uint8Array([HEAD]);
export const BATCH_PREFIX = new Uint8Array([BATCH]);

/** u8 length ‖ UTF-8 name: a table name never runs into what follows it. */
export function tableKeyPart(table: string): Uint8Array {
  const b = utf8(table);
  return concatBytes(new Uint8Array([b.length]), b);
}

export const anchorKey = (submitter: Uint8Array, root: Uint8Array): Uint8Array => concatBytes(ANCHOR_PREFIX, submitter, root);
export const rootKey = (root: Uint8Array): Uint8Array => concatBytes(ROOT_PREFIX, root);
export const headKey = (submitter: Uint8Array, table: string): Uint8Array => concatBytes(HEAD_PREFIX, submitter, tableKeyPart(table));
export const batchKey = (submitter: Uint8Array, table: string, index: number): Uint8Array =>
  concatBytes(BATCH_PREFIX, submitter, tableKeyPart(table), uintBE(index, 8));
