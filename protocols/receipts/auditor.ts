// The auditor (paper §4.2.3 "Verification of Blockchain Receipt"; SPEC §5.4). Off-chain: the state
// machine never imports this file. Given a table's exported rows, its receipts and a view of the
// chain whose every answer is proven (auditView.ts), it reports each anchored sub-table OK or
// TAMPERED with its id range, and checks the chain of signatures of every row against the keys valid
// when the row was anchored. A table's order is its ids' order: a sub-table's rows are the export's
// rows in its id range, sorted by id (stable, so a duplicated id stays where the export put it). Lines
// of the export in another order are the same table; rows whose contents were swapped are not.
//
// Per table and submitter: the chain's head gives the number of batches; each batch's anchor (root,
// m, n, id range, height, tx) is read by index, so a batch whose rows and receipts were both deleted
// still shows up. For each of its min(m, n) sub-tables:
//   receipt-invalid    the receipt contradicts itself or its proof does not lead to its root
//   meta-mismatch      the receipt's m, n, ranges, height or tx differ from the anchor on chain
//   rows-differ        the export's rows in the sub-table's range do not hash to the receipt's leaf
//   receipt-missing    no receipt for this sub-table
//   root-not-on-chain  (receipts with no anchor) the root was never anchored by this submitter
//   wrong-submitter    the receipt names a submitter other than the one the auditor expects
import { bytesEqual, toHex } from '../../lib/hex.js';
import { ERR, InternalError } from '../../lib/errors.js';
import { checkReceipt, receiptMatchesRows, splitBatch, subTableSizes, treeSizeOf, type Receipt } from './merkleReceipt.js';
import { verifyRow, type Row } from './rows.js';
import { ReplayGuard, type VerifyOptions } from './signatureChain.js';
import { resolverAt, type KeyHistory } from './keyHistory.js';
import type { AnchorView } from './auditView.js';
import type { AnchorJson } from './types.js';

export type SubTableStatus = 'OK' | 'TAMPERED';
export type TamperReason = 'rows-differ' | 'receipt-invalid' | 'receipt-missing' | 'root-not-on-chain' | 'meta-mismatch' | 'wrong-submitter';

export interface SubTableReport {
  table: string;
  submitter: string;
  /** Batch index on chain (null for a receipt whose root is not on chain). */
  batch: number | null;
  leafIndex: number;
  treeSize: number;
  firstId: number;
  lastId: number;
  /** Rows of the export in this range. */
  rows: number;
  /** Rows the anchored sub-table held. */
  expectedRows: number;
  height: number | null;
  root: string;
  status: SubTableStatus;
  reason?: TamperReason;
  detail?: string;
}

export interface SignatureFailure {
  table: string;
  id: number;
  reason: string;
  signer: { role: string; address: string; index: number } | null;
  detail: string;
  anchoredAt: number | null;
}

export interface TableSummary {
  table: string;
  submitter: string | null;
  batches: number;
  lastAnchoredId: number;
  rows: number;
  /** Rows after the last anchored batch: not anchored yet, so not covered by this audit. */
  pending: { count: number; firstId: number; lastId: number } | null;
}

export interface AuditReport {
  ok: boolean;
  chainId: string;
  trust: string;
  tables: TableSummary[];
  subTables: SubTableReport[];
  /** Rows inside anchored territory that no batch covers (e.g. below the first batch). */
  strayRows: { table: string; id: number }[];
  signatures: { checked: boolean; rows: number; failures: SignatureFailure[] };
  malformed: { line: number; detail: string }[];
  receiptErrors: { file: string; detail: string }[];
}

export interface AuditTableInput {
  table: string;
  /** The export's rows of this table, in file order. */
  rows: readonly Row[];
  receipts: readonly Receipt[];
  /** The submitter whose anchors count (default: the one the receipts name). */
  submitter?: Uint8Array;
}

export interface AuditOptions {
  view: AnchorView;
  /** Key history for the chains of signatures; without it signatures are not checked. */
  keys?: KeyHistory;
  /** Expected chain shape (default: a service's table, VerifyOptions defaults). */
  verify?: Omit<VerifyOptions, 'replayGuard'>;
  malformed?: { line: number; detail: string }[];
  receiptErrors?: { file: string; detail: string }[];
}

type Anchored = Extract<AnchorJson, { found: true }>;

function rowsIn(rows: readonly Row[], firstId: number, lastId: number): Row[] {
  return rows.filter((r) => r.id >= firstId && r.id <= lastId).sort((a, b) => a.id - b.id);
}

function countDetail(found: number, expected: number): string {
  if (found < expected) return `${expected - found} row(s) missing: ${found} in the export, ${expected} anchored`;
  if (found > expected) return `${found - expected} row(s) added: ${found} in the export, ${expected} anchored`;
  return `${found} rows, but their contents differ from what was anchored`;
}

function metaMismatch(r: Receipt, a: Anchored, chainId: string): string | undefined {
  const m = a.meta;
  if (r.m !== m.m || r.n !== m.n || r.table !== m.table) return `the receipt says m = ${r.m}, n = ${r.n}, table ${r.table}; the chain says m = ${m.m}, n = ${m.n}, table ${m.table}`;
  if (r.batchFirstId !== m.firstId || r.batchLastId !== m.lastId) return `the receipt's batch is ${r.batchFirstId}..${r.batchLastId}; the chain's is ${m.firstId}..${m.lastId}`;
  if (r.batch !== a.batch) return `the receipt says batch ${r.batch}; the chain says ${a.batch}`;
  if (r.anchor.height !== a.height || toHex(r.anchor.txHash) !== a.txHash) return `the receipt names tx ${toHex(r.anchor.txHash)} at height ${r.anchor.height}; the chain has ${a.txHash} at ${a.height}`;
  if (r.anchor.chainId !== chainId) return `the receipt is for chain ${r.anchor.chainId}, the audit for ${chainId}`;
  return undefined;
}

/** Audits one table. */
export async function auditTable(input: AuditTableInput, o: AuditOptions): Promise<{ summary: TableSummary; subTables: SubTableReport[]; strayRows: { table: string; id: number }[]; failures: SignatureFailure[] }> {
  const { table, rows } = input;
  const subTables: SubTableReport[] = [];
  const chainId = o.view.chainId;
  const submitters = new Map<string, Uint8Array>();
  if (input.submitter) submitters.set(toHex(input.submitter), input.submitter);
  for (const r of input.receipts) {
    const s = toHex(r.anchor.submitter);
    if (input.submitter && s !== toHex(input.submitter)) {
      subTables.push({
        table, submitter: s, batch: r.batch, leafIndex: r.leafIndex, treeSize: r.treeSize, firstId: r.firstId, lastId: r.lastId,
        rows: rowsIn(rows, r.firstId, r.lastId).length, expectedRows: r.rows, height: r.anchor.height, root: toHex(r.merkleRoot),
        status: 'TAMPERED', reason: 'wrong-submitter', detail: `the receipt names submitter ${s}, the audit expects ${toHex(input.submitter)}`,
      });
      continue;
    }
    submitters.set(s, r.anchor.submitter);
  }

  // Batches on chain, per submitter.
  const batches: { submitter: Uint8Array; a: Anchored }[] = [];
  let lastAnchoredId = 0;
  let batchCount = 0;
  for (const who of submitters.values()) {
    const head = await o.view.head(who, table);
    batchCount += head.count;
    lastAnchoredId = Math.max(lastAnchoredId, head.lastId ?? 0);
    for (let i = 0; i < head.count; i++) {
      const a = await o.view.at(who, table, i);
      if (!a.found || !('meta' in a)) throw new InternalError(ERR.PROOF_INVALID, `the chain says ${toHex(who)} anchored ${head.count} batches of ${table}, but batch ${i} is missing`);
      batches.push({ submitter: who, a });
    }
  }

  const used = new Set<Receipt>();
  for (const { submitter, a } of batches) {
    const s = toHex(submitter);
    const mine = input.receipts.filter((r) => toHex(r.anchor.submitter) === s && toHex(r.merkleRoot) === a.hash);
    const k = treeSizeOf(a.meta.m, a.meta.n);
    const sizes = subTableSizes(a.meta.m, a.meta.n);
    const byLeaf = new Map<number, Receipt>();
    for (const r of mine) {
      used.add(r);
      if (!byLeaf.has(r.leafIndex)) byLeaf.set(r.leafIndex, r);
    }
    const batchRows = rowsIn(rows, a.meta.firstId, a.meta.lastId);
    const splitGuess = batchRows.length === a.meta.m ? splitBatch(batchRows, a.meta.n, a.meta.firstId) : [];
    for (let j = 0; j < k; j++) {
      const r = byLeaf.get(j);
      const base = { table, submitter: s, batch: a.batch, leafIndex: j, treeSize: k, expectedRows: sizes[j]!, height: a.height, root: a.hash };
      if (!r) {
        // The range this sub-table must have covered: between its neighbours' ranges, else where the
        // export's rows of the batch would put it (exact when the batch's rows are all there).
        const guess = splitGuess[j];
        let firstId = guess?.firstId ?? a.meta.firstId;
        let lastId = guess?.lastId ?? a.meta.lastId;
        for (let i = j - 1; i >= 0; i--) {
          const prev = byLeaf.get(i);
          if (prev) {
            firstId = prev.lastId + 1;
            break;
          }
        }
        for (let i = j + 1; i < k; i++) {
          const next = byLeaf.get(i);
          if (next) {
            lastId = next.firstId - 1;
            break;
          }
        }
        subTables.push({ ...base, firstId, lastId, rows: rowsIn(rows, firstId, lastId).length, status: 'TAMPERED', reason: 'receipt-missing', detail: `no receipt for sub-table ${j} of batch ${a.batch}` });
        continue;
      }
      const inRange = rowsIn(rows, r.firstId, r.lastId);
      const at = { ...base, firstId: r.firstId, lastId: r.lastId, rows: inRange.length };
      const check = checkReceipt(r);
      if (!check.ok) {
        subTables.push({ ...at, status: 'TAMPERED', reason: 'receipt-invalid', detail: check.reason });
        continue;
      }
      const mismatch = metaMismatch(r, a, chainId);
      if (mismatch) {
        subTables.push({ ...at, status: 'TAMPERED', reason: 'meta-mismatch', detail: mismatch });
        continue;
      }
      if (!receiptMatchesRows(r, inRange)) {
        subTables.push({ ...at, status: 'TAMPERED', reason: 'rows-differ', detail: countDetail(inRange.length, r.rows) });
        continue;
      }
      subTables.push({ ...at, status: 'OK' });
    }
  }

  // Receipts that match no anchored batch of their submitter.
  for (const r of input.receipts) {
    if (used.has(r) || (input.submitter && !bytesEqual(r.anchor.submitter, input.submitter))) continue;
    const a = await o.view.root(r.anchor.submitter, r.merkleRoot);
    const inRange = rowsIn(rows, r.firstId, r.lastId);
    const base = {
      table, submitter: toHex(r.anchor.submitter), batch: null, leafIndex: r.leafIndex, treeSize: r.treeSize, firstId: r.firstId, lastId: r.lastId,
      rows: inRange.length, expectedRows: r.rows, height: null, root: toHex(r.merkleRoot), status: 'TAMPERED' as const,
    };
    if (!a.found) subTables.push({ ...base, reason: 'root-not-on-chain', detail: `root ${toHex(r.merkleRoot)} was never anchored by ${toHex(r.anchor.submitter)}` });
    else subTables.push({ ...base, batch: a.batch, height: a.height, reason: 'meta-mismatch', detail: `the root is anchored for table ${a.meta.table}, rows ${a.meta.firstId}..${a.meta.lastId}` });
  }
  subTables.sort((x, y) => x.firstId - y.firstId || x.leafIndex - y.leafIndex);

  // Rows: which batch covers each; rows after the last batch are pending, others uncovered are stray.
  const ranges = batches.map((b) => ({ firstId: b.a.meta.firstId, lastId: b.a.meta.lastId, height: b.a.height })).sort((x, y) => x.firstId - y.firstId);
  const heightOf = (id: number): number | undefined => ranges.find((r) => id >= r.firstId && id <= r.lastId)?.height;
  const strayRows: { table: string; id: number }[] = [];
  const pendingIds: number[] = [];
  for (const row of rows) {
    if (heightOf(row.id) !== undefined) continue;
    if (row.id > lastAnchoredId) pendingIds.push(row.id);
    else strayRows.push({ table, id: row.id });
  }

  // Chains of signatures, in id order, against the keys valid at each row's anchoring height.
  const failures: SignatureFailure[] = [];
  if (o.keys) {
    const guard = new ReplayGuard();
    const ordered = [...rows].sort((x, y) => x.id - y.id);
    for (const row of ordered) {
      const h = heightOf(row.id);
      const revoked: string[] = [];
      const resolver = resolverAt(o.keys, h, (addr, at) => revoked.push(`key of ${toHex(addr)} revoked at height ${at}, row ${h === undefined ? 'not anchored' : `anchored at ${h}`}`));
      const res = verifyRow(row, resolver, { ...(o.verify ?? {}), replayGuard: guard });
      if (!res.ok) {
        failures.push({
          table, id: row.id, reason: revoked.length > 0 && res.reason === 'unknown-key' ? 'revoked-key' : res.reason,
          signer: res.failedSigner ?? null, detail: revoked.length > 0 ? `${res.detail} (${revoked[0]})` : res.detail, anchoredAt: h ?? null,
        });
      }
    }
  }

  const pending = pendingIds.length > 0 ? { count: pendingIds.length, firstId: Math.min(...pendingIds), lastId: Math.max(...pendingIds) } : null;
  const onlySubmitter = submitters.size === 1 ? [...submitters.keys()][0]! : null;
  return {
    summary: { table, submitter: onlySubmitter, batches: batchCount, lastAnchoredId, rows: rows.length, pending },
    subTables,
    strayRows,
    failures,
  };
}

/** Audits every table present in `rows` (grouped by row.table) with its receipts. */
export async function audit(
  tables: { table: string; rows: readonly Row[]; receipts: readonly Receipt[] }[],
  o: AuditOptions & { submitter?: Uint8Array },
): Promise<AuditReport> {
  const report: AuditReport = {
    ok: true,
    chainId: o.view.chainId,
    trust: o.view.source.trust.source,
    tables: [],
    subTables: [],
    strayRows: [],
    signatures: { checked: o.keys !== undefined, rows: 0, failures: [] },
    malformed: o.malformed ?? [],
    receiptErrors: o.receiptErrors ?? [],
  };
  for (const t of tables) {
    const r = await auditTable({ table: t.table, rows: t.rows, receipts: t.receipts, ...(o.submitter ? { submitter: o.submitter } : {}) }, o);
    report.tables.push(r.summary);
    report.subTables.push(...r.subTables);
    report.strayRows.push(...r.strayRows);
    report.signatures.failures.push(...r.failures);
    if (o.keys) report.signatures.rows += t.rows.length;
  }
  report.ok =
    report.subTables.every((s) => s.status === 'OK') &&
    report.strayRows.length === 0 &&
    report.signatures.failures.length === 0 &&
    report.malformed.length === 0 &&
    report.receiptErrors.length === 0;
  return report;
}
