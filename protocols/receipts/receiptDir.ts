// The receipts directory: kept apart from the data (paper §4.2.2 step 6), one folder per table:
//   DIR/<table>/state.json                             the daemon's progress and its pending anchor
//   DIR/<table>/<firstId:16>-<lastId:16>.json          one receipt per sub-table (merkleReceipt.ts)
// Every file is written atomically (temporary file, fsync, rename, fsync of the folder), so a crash
// leaves either the old or the new file, never half of one. Off-chain: never imported on chain.
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { bytes, bytes32, list, optional, str, struct, u53, type Codec } from '../../lib/encoding.js';
import { MAX_TX_BYTES } from '../../state/tx.js';
import { MAX_SUBTABLES } from './types.js';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { anchorMetaCodec } from './codec.js';
import { checkTableName } from './dataStore.js';
import { receiptFromJson, receiptToJson, type Receipt } from './merkleReceipt.js';
import { address } from './signatureChainCodec.js';
import type { AnchorMeta } from './types.js';

/** Writes `text` to `path` atomically and durably. */
export async function writeFileAtomic(path: string, text: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(join(path, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export interface IdRange {
  firstId: number;
  lastId: number;
}

/** An anchor prepared and recorded before its transaction is sent; reconciled with the chain after a crash. */
export interface PendingAnchor {
  batch: number;
  meta: AnchorMeta;
  root: Uint8Array;
  /** Leaf hashes of the sub-tables, and their id ranges [firstId, lastId]: enough to write the receipts without the rows. */
  leaves: Uint8Array[];
  ranges: IdRange[];
  txHash: Uint8Array;
  rawTx: Uint8Array;
  nonce: number;
}

export interface AnchorState {
  table: string;
  /** Last anchored row id (0: none yet). */
  lastId: number;
  /** Batches anchored so far. */
  batches: number;
  /** Submitter identity the chain recorded (known after the first anchor). */
  submitter: Uint8Array | undefined;
  pending: PendingAnchor | undefined;
}

const idRange = struct<IdRange>({ firstId: u53, lastId: u53 }, ['firstId', 'lastId']);
const pendingCodec: Codec<PendingAnchor> = struct<PendingAnchor>(
  {
    batch: u53,
    meta: anchorMetaCodec,
    root: bytes32,
    leaves: list(bytes32, MAX_SUBTABLES),
    ranges: list(idRange, MAX_SUBTABLES),
    txHash: bytes32,
    rawTx: bytes(MAX_TX_BYTES),
    nonce: u53,
  },
  ['batch', 'meta', 'root', 'leaves', 'ranges', 'txHash', 'rawTx', 'nonce'],
);
const stateCodec: Codec<AnchorState & { format: string }> = struct<AnchorState & { format: string }>(
  { format: str(64), table: str(64), lastId: u53, batches: u53, submitter: optional(address), pending: optional(pendingCodec) },
  ['format', 'table', 'lastId', 'batches', 'submitter', 'pending'],
);
const STATE_FORMAT = 'iotchain-anchor-state/v1';

const pad = (id: number) => String(id).padStart(16, '0');
const RECEIPT_FILE_RE = /^(\d{16})-(\d{16})\.json$/;

export class ReceiptDir {
  constructor(readonly dir: string) {}

  tableDir(table: string): string {
    return join(this.dir, checkTableName(table));
  }

  statePath(table: string): string {
    return join(this.tableDir(table), 'state.json');
  }

  async loadState(table: string): Promise<AnchorState | undefined> {
    let text: string;
    try {
      text = await readFile(this.statePath(table), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new InvalidMessageError(ERR.CONFIG, `${this.statePath(table)}: not valid JSON`);
    }
    const s = stateCodec.fromJson(json, this.statePath(table));
    if (s.format !== STATE_FORMAT || s.table !== table) throw new InvalidMessageError(ERR.CONFIG, `${this.statePath(table)}: not the anchor state of table ${table}`);
    return { table: s.table, lastId: s.lastId, batches: s.batches, submitter: s.submitter, pending: s.pending };
  }

  async saveState(state: AnchorState): Promise<void> {
    await mkdir(this.tableDir(state.table), { recursive: true });
    const json = stateCodec.toJson({ format: STATE_FORMAT, ...state });
    await writeFileAtomic(this.statePath(state.table), JSON.stringify(json, null, 2) + '\n');
  }

  receiptPath(r: Pick<Receipt, 'table' | 'firstId' | 'lastId'>): string {
    return join(this.tableDir(r.table), `${pad(r.firstId)}-${pad(r.lastId)}.json`);
  }

  async writeReceipt(r: Receipt): Promise<string> {
    await mkdir(this.tableDir(r.table), { recursive: true });
    const path = this.receiptPath(r);
    await writeFileAtomic(path, JSON.stringify(receiptToJson(r), null, 2) + '\n');
    return path;
  }

  /** Tables that have a folder here. */
  async tables(): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(n)).sort();
  }

  /** Every receipt file of `table`, in id order; a file that does not parse is returned as an error. */
  async receipts(table: string): Promise<{ receipts: { file: string; receipt: Receipt }[]; errors: { file: string; detail: string }[] }> {
    const dir = this.tableDir(table);
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => RECEIPT_FILE_RE.test(f)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { receipts: [], errors: [] };
      throw e;
    }
    const receipts: { file: string; receipt: Receipt }[] = [];
    const errors: { file: string; detail: string }[] = [];
    for (const f of files) {
      const file = join(dir, f);
      try {
        receipts.push({ file, receipt: receiptFromJson(JSON.parse(await readFile(file, 'utf8')) as unknown, f) });
      } catch (e) {
        errors.push({ file, detail: e instanceof Error ? e.message : String(e) });
      }
    }
    return { receipts, errors };
  }

  /** Removes stray temporary files a crash may have left (never a receipt or the state). */
  async sweep(table: string): Promise<void> {
    let files: string[];
    try {
      files = await readdir(this.tableDir(table));
    } catch {
      return;
    }
    for (const f of files) if (/\.tmp-\d+$/.test(f)) await unlink(join(this.tableDir(table), f)).catch(() => {});
  }
}
