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
//
// Given a gateway's export too (Fig. 5e/5f), each side is audited as above (the gateway's rows with
// the chain shape of a gateway's table, anchored by whoever anchors it), and then the two are
// cross-checked group by group through groupId (auditorCrossCheck.ts), with the rows each side's
// audit found untrustworthy used to tell which side differs.
import { bytesEqual, fromHex, toHex } from '../../lib/hex.js';
import { ERR, InternalError } from '../../lib/errors.js';
import { checkReceipt, receiptMatchesRows, splitBatch, subTableSizes, treeSizeOf, type Receipt } from './merkleReceipt.js';
import { verifyRow, type Row } from './rows.js';
import { ReplayGuard, type KeyResolver, type VerifyOptions, type VerifyResult } from './signatureChain.js';
import { entryAddress, entryValidAt, resolverAt, type KeyHistory, type KeyHistoryEntry } from './keyHistory.js';
import { crossCheckGroups, summarizeGroups, type CrossCheckSummary, type CrossSide, type GroupReport, type GroupRowRef } from './auditorCrossCheck.js';
import type { AnchorView } from './auditView.js';
import type { AnchorJson } from './types.js';

export type SubTableStatus = 'OK' | 'TAMPERED';
export type TamperReason = 'rows-differ' | 'receipt-invalid' | 'receipt-missing' | 'root-not-on-chain' | 'meta-mismatch' | 'wrong-submitter';

export interface SubTableReport {
  table: string;
  /** With a gateway export: which export the table is from. */
  side?: CrossSide;
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
  side?: CrossSide;
  id: number;
  reason: string;
  signer: { role: string; address: string; index: number } | null;
  detail: string;
  anchoredAt: number | null;
  /**
   * revoked-key / key-not-yet-valid: the key the signature was made with (its online address and
   * public key) and the heights it counts for: rows anchored at from ≤ h < revokedAt.
   */
  key?: { online: string; publicKey: string; from: number | null; revokedAt: number | null };
}

export interface TableSummary {
  table: string;
  side?: CrossSide;
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
  strayRows: { table: string; id: number; side?: CrossSide }[];
  /** `keys`: where the key histories came from ('key-directory', 'chain', …). */
  signatures: { checked: boolean; rows: number; failures: SignatureFailure[]; keys?: string };
  malformed: { line: number; detail: string; side?: CrossSide }[];
  receiptErrors: { file: string; detail: string; side?: CrossSide }[];
  /** With a gateway export: the service's and the gateway's tables compared through groupId. */
  crossCheck?: CrossCheckSummary & { serviceTables: string[]; gatewayTables: string[]; results: GroupReport[] };
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

/** Every address that signs something in these rows (the keys the audit will look up). */
export function signersOf(rows: readonly Row[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  const add = (a: Uint8Array | undefined) => {
    if (a) seen.set(toHex(a), a);
  };
  for (const r of rows) {
    switch (r.kind) {
      case 'reading':
        add(r.envelope.reading.deviceId);
        break;
      case 'aggregate':
        for (const m of r.envelope.members) add(m.deviceId);
        add(r.envelope.aggregate.gatewayId);
        break;
      case 'command':
        add(r.envelope.serviceId);
        break;
      case 'feedback':
        add(r.envelope.command.serviceId);
        add(r.envelope.feedback.deviceId);
        break;
    }
    if (r.kind !== 'command') {
      for (const g of r.envelope.gateways) add(g.address);
      add(r.envelope.service?.address);
    }
  }
  return [...seen.values()];
}

/**
 * A signer's signature failed against the key in force at the row's anchoring height: was it made
 * with another key of the same address, one that does not count at that height (revoked before, or
 * valid only from later)? Re-verifies the row with that key in place; if the failing signer then
 * passes, that key made the signature.
 */
function staleKey(
  row: Row,
  res: Extract<VerifyResult, { ok: false }>,
  keys: KeyHistory,
  h: number | undefined,
  verify: Omit<VerifyOptions, 'replayGuard'>,
): { reason: 'revoked-key' | 'key-not-yet-valid'; detail: string; key: NonNullable<SignatureFailure['key']> } | undefined {
  const who = res.failedSigner;
  if (!who || (res.reason !== 'bad-signature' && res.reason !== 'unknown-key')) return undefined;
  const addr = fromHex(who.address, 'signer', 20);
  const base = resolverAt(keys, h);
  for (const e of keys.keysOf(addr)) {
    if (entryValidAt(e, h)) continue; // the key in force: it already failed
    const withIt: KeyResolver = (a) => (bytesEqual(a, addr) ? { type: e.type, publicKey: e.publicKey } : base(a));
    const again = verifyRow(row, withIt, verify);
    const passes = again.ok || (again.failedSigner !== undefined ? again.failedSigner.index > who.index : again.reason !== 'malformed');
    if (!passes) continue;
    return describeStale(who, e, h);
  }
  return undefined;
}

function describeStale(who: { role: string; address: string }, e: KeyHistoryEntry, h: number | undefined): { reason: 'revoked-key' | 'key-not-yet-valid'; detail: string; key: NonNullable<SignatureFailure['key']> } {
  const online = toHex(entryAddress(e));
  const key = { online, publicKey: toHex(e.publicKey), from: e.from ?? null, revokedAt: e.revokedAt ?? null };
  const row = h === undefined ? 'the row is not anchored yet' : `the row was anchored at height ${h}`;
  if (e.revokedAt !== undefined && (h === undefined || h >= e.revokedAt)) {
    return { reason: 'revoked-key', key, detail: `${who.role} ${who.address} signed with online key ${online}, revoked at height ${e.revokedAt}; ${row}, so only a key valid then counts` };
  }
  return { reason: 'key-not-yet-valid', key, detail: `${who.role} ${who.address} signed with online key ${online}, valid only from height ${e.from ?? 0}; ${row}` };
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
    const keys = o.keys;
    if (keys.prepare) await keys.prepare(signersOf(rows));
    const guard = new ReplayGuard();
    const ordered = [...rows].sort((x, y) => x.id - y.id);
    for (const row of ordered) {
      const h = heightOf(row.id);
      const revoked: string[] = [];
      const resolver = resolverAt(keys, h, (addr, at) => revoked.push(`key of ${toHex(addr)} revoked at height ${at}, row ${h === undefined ? 'not anchored' : `anchored at ${h}`}`));
      const res = verifyRow(row, resolver, { ...(o.verify ?? {}), replayGuard: guard });
      if (!res.ok) {
        const stale = res.failedSigner ? staleKey(row, res, keys, h, o.verify ?? {}) : undefined;
        if (stale) {
          failures.push({ table, id: row.id, reason: stale.reason, signer: res.failedSigner ?? null, detail: stale.detail, anchoredAt: h ?? null, key: stale.key });
          continue;
        }
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

export interface AuditTables {
  table: string;
  rows: readonly Row[];
  receipts: readonly Receipt[];
}

/** A gateway's export (Fig. 5f), audited beside the service's and cross-checked with it through groupId. */
export interface GatewayAuditInput {
  tables: AuditTables[];
  /** Whose anchors of the gateway's tables count (default: the one their receipts name). */
  submitter?: Uint8Array;
  /** Chain shape of the gateway's rows (default: chains before the gateway's own signature). */
  verify?: Omit<VerifyOptions, 'replayGuard'>;
  /** Only the service's groups of this gateway (default: every service row with a groupId). */
  address?: Uint8Array;
  malformed?: { line: number; detail: string }[];
  receiptErrors?: { file: string; detail: string }[];
}

/** A gateway's table holds readings and feedback before its own signature (and no service's). */
export const GATEWAY_TABLE_SHAPE: Omit<VerifyOptions, 'replayGuard'> = { minGateways: 0, requireService: false };

/**
 * Audits every table present in `rows` (grouped by row.table) with its receipts; with `gateway`, also
 * the gateway's tables, then cross-checks the two exports through groupId.
 */
export async function audit(tables: AuditTables[], o: AuditOptions & { submitter?: Uint8Array; gateway?: GatewayAuditInput }): Promise<AuditReport> {
  const g = o.gateway;
  const tag = <T extends object>(x: T, side: CrossSide): T => (g ? { ...x, side } : x);
  const report: AuditReport = {
    ok: true,
    chainId: o.view.chainId,
    trust: o.view.source.trust.source,
    tables: [],
    subTables: [],
    strayRows: [],
    signatures: { checked: o.keys !== undefined, rows: 0, failures: [], ...(o.keys ? { keys: o.keys.source ?? 'key-directory' } : {}) },
    malformed: (o.malformed ?? []).map((m) => tag(m, 'service')),
    receiptErrors: (o.receiptErrors ?? []).map((e) => tag(e, 'service')),
  };
  // Rows each side's audit found untrustworthy, for the cross-check: failed chains of signatures,
  // tampered sub-tables' ranges, stray rows.
  const bad = new Set<string>();
  const badRanges: { side: CrossSide; table: string; firstId: number; lastId: number }[] = [];
  const sides: [CrossSide, AuditTables[], AuditOptions & { submitter?: Uint8Array }][] = [['service', tables, o]];
  if (g) {
    const gatewayOpts: AuditOptions & { submitter?: Uint8Array } = {
      view: o.view,
      verify: g.verify ?? GATEWAY_TABLE_SHAPE,
      ...(o.keys ? { keys: o.keys } : {}),
      ...(g.submitter ? { submitter: g.submitter } : {}),
    };
    sides.push(['gateway', g.tables, gatewayOpts]);
    report.malformed.push(...(g.malformed ?? []).map((m) => tag(m, 'gateway')));
    report.receiptErrors.push(...(g.receiptErrors ?? []).map((e) => tag(e, 'gateway')));
  }
  for (const [side, list, opts] of sides) {
    for (const t of list) {
      const r = await auditTable({ table: t.table, rows: t.rows, receipts: t.receipts, ...(opts.submitter ? { submitter: opts.submitter } : {}) }, opts);
      report.tables.push(tag(r.summary, side));
      report.subTables.push(...r.subTables.map((x) => tag(x, side)));
      report.strayRows.push(...r.strayRows.map((x) => tag(x, side)));
      report.signatures.failures.push(...r.failures.map((x) => tag(x, side)));
      if (o.keys) report.signatures.rows += t.rows.length;
      for (const f of r.failures) bad.add(`${side}|${f.table}|${f.id}`);
      for (const x of r.strayRows) bad.add(`${side}|${x.table}|${x.id}`);
      for (const x of r.subTables) if (x.status !== 'OK') badRanges.push({ side, table: x.table, firstId: x.firstId, lastId: x.lastId });
    }
  }
  if (g) {
    const suspect = (x: GroupRowRef) =>
      bad.has(`${x.side}|${x.table}|${x.id}`) || badRanges.some((b) => b.side === x.side && b.table === x.table && x.id >= b.firstId && x.id <= b.lastId);
    const results = crossCheckGroups(
      tables.flatMap((t) => t.rows),
      g.tables.flatMap((t) => t.rows),
      { suspect, ...(g.address ? { gateway: g.address } : {}) },
    );
    report.crossCheck = { ...summarizeGroups(results), serviceTables: tables.map((t) => t.table), gatewayTables: g.tables.map((t) => t.table), results };
  }
  report.ok =
    report.subTables.every((s) => s.status === 'OK') &&
    report.strayRows.length === 0 &&
    report.signatures.failures.length === 0 &&
    report.malformed.length === 0 &&
    report.receiptErrors.length === 0 &&
    (report.crossCheck?.differ ?? 0) === 0;
  return report;
}
