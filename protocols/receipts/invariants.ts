// Checked after every block in tests: the four key families agree with each other.
import { bytes20, bytes32, decode } from '../../lib/encoding.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import type { ModuleReader } from '../module.js';
import { anchorRecordCodec, tableHeadCodec, validateMeta } from './codec.js';
import { ANCHOR_PREFIX, BATCH_PREFIX, HEAD_PREFIX, ROOT_PREFIX, tableKeyPart } from './keys.js';
import { ReceiptsReader } from './store.js';

export async function invariants(reader: ModuleReader): Promise<string[]> {
  const out: string[] = [];
  const r = new ReceiptsReader(reader);
  const roots = new Set<string>();
  for await (const [k, v] of reader.entries(ANCHOR_PREFIX)) {
    const submitter = k.subarray(1, 21);
    const root = k.subarray(21);
    const where = `anchor ${toHex(submitter)}/${toHex(root)}`;
    if (k.length !== 53) {
      out.push(`${where}: bad key length ${k.length}`);
      continue;
    }
    roots.add(toHex(root));
    const rec = decode(anchorRecordCodec, v, where);
    if (!bytesEqual(rec.submitter, submitter)) out.push(`${where}: record names submitter ${toHex(rec.submitter)}`);
    try {
      validateMeta(rec.meta);
    } catch (e) {
      out.push(`${where}: ${(e as Error).message}`);
    }
    if (rec.height < 1) out.push(`${where}: height ${rec.height}`);
    const at = r.batchRoot(submitter, rec.meta.table, rec.batch);
    if (!at || !bytesEqual(at, root)) out.push(`${where}: batch ${rec.batch} of ${rec.meta.table} does not point back to it`);
    const head = r.head(submitter, rec.meta.table);
    if (!head || rec.batch >= head.count) out.push(`${where}: batch ${rec.batch} beyond the table head`);
    if (!r.firstSubmitter(root)) out.push(`${where}: root missing from the root index`);
  }
  for await (const [k, v] of reader.entries(ROOT_PREFIX)) {
    const root = k.subarray(1);
    const first = decode(bytes20, v, 'root index');
    if (!roots.has(toHex(root)) || !r.anchor(first, root)) out.push(`root index ${toHex(root)}: no anchor by ${toHex(first)}`);
  }
  for await (const [k, v] of reader.entries(HEAD_PREFIX)) {
    const submitter = k.subarray(1, 21);
    const table = new TextDecoder().decode(k.subarray(22));
    const where = `head ${toHex(submitter)}/${table}`;
    const head = decode(tableHeadCodec, v, where);
    let prevLast: number | undefined;
    for (let i = 0; i < head.count; i++) {
      const root = r.batchRoot(submitter, table, i);
      const rec = root ? r.anchor(submitter, root) : undefined;
      if (!root || !rec) {
        out.push(`${where}: batch ${i} missing`);
        break;
      }
      if (rec.batch !== i) out.push(`${where}: batch ${i} record says ${rec.batch}`);
      if (prevLast !== undefined && rec.meta.firstId !== prevLast + 1) out.push(`${where}: batch ${i} starts at ${rec.meta.firstId}, previous ended at ${prevLast}`);
      prevLast = rec.meta.lastId;
      if (i === head.count - 1 && (rec.meta.lastId !== head.lastId || !bytesEqual(root, head.lastRoot))) out.push(`${where}: head does not match batch ${i}`);
    }
    if (r.batchRoot(submitter, table, head.count)) out.push(`${where}: a batch beyond count ${head.count}`);
  }
  for await (const [k, v] of reader.entries(BATCH_PREFIX)) {
    const submitter = k.subarray(1, 21);
    const len = k[21] ?? 0;
    const table = new TextDecoder().decode(k.subarray(22, 22 + len));
    if (k.length !== 22 + len + 8 || !bytesEqual(k.subarray(21, 22 + len), tableKeyPart(table))) {
      out.push(`batch key ${toHex(k)}: malformed`);
      continue;
    }
    decode(bytes32, v, 'batch root');
    if (!r.head(submitter, table)) out.push(`batch ${toHex(submitter)}/${table}: no table head`);
  }
  return out;
}
