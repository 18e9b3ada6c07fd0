// Data at rest (SPEC §5.4): `iotchain data ingest|export`, `iotchain anchor run`, `iotchain audit` and
// `iotchain audit bundle`. The work is done by protocols/receipts (stores, ingest, daemon, auditor);
// this file reads flags, opens things, prints, and closes them. (Names and flags: cli/commands/data.ts.)
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { parseAddress, toChecksumAddress, addressOf, type KeyPair } from '../../crypto/keys.js';
import { readPassphraseFile } from '../../crypto/keystore.js';
import { loadGenesis } from '../../node/config.js';
import { RpcClient } from '../../rpc/client.js';
import { openDataStore, type DataStore } from '../../protocols/receipts/dataStore.js';
import { ingestReadings } from '../../protocols/receipts/ingest.js';
import { mergeKeyDirectory, loadKeyDirectory, historyOf, ChainKeyHistory, type KeyHistory } from '../../protocols/receipts/keyHistory.js';
import { exportTable, readRowsFile, groupByTable } from '../../protocols/receipts/rowsFile.js';
import { AnchorDaemon, type AnchoredBatch } from '../../protocols/receipts/anchorDaemon.js';
import { ensureRegistered, identityOfOnlineKey } from '../../protocols/receipts/anchorIdentity.js';
import { ReceiptDir } from '../../protocols/receipts/receiptDir.js';
import { AnchorView, BundleProofSource, RpcProofSource, loadBundle, saveBundle, type ProofSource, type Trust } from '../../protocols/receipts/auditView.js';
import { audit, auditTable, signersOf, type AuditReport, type GatewayAuditInput } from '../../protocols/receipts/auditor.js';
import type { Row } from '../../protocols/receipts/rows.js';
import type { Receipt } from '../../protocols/receipts/merkleReceipt.js';
import { loadKeyDir } from '../keyFiles.js';
import { lines, usageError, type Output } from '../output.js';
import { DEFAULT_RPC_URL } from '../commands/client.js';

function parseCount(text: string | undefined, flag: string, min = 0): number {
  if (text === undefined) throw usageError(`missing ${flag} N`);
  if (!/^[0-9]{1,15}$/.test(text) || Number(text) < min) throw usageError(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

function need(v: string | undefined, flag: string): string {
  if (v === undefined || v === '') throw usageError(`missing ${flag}`);
  return v;
}

async function withStore<T>(spec: string, body: (s: DataStore) => Promise<T>): Promise<T> {
  const store = await openDataStore(spec);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

async function withClient<T>(url: string, body: (c: RpcClient) => Promise<T>): Promise<T> {
  let client: RpcClient;
  try {
    client = new RpcClient(url);
  } catch {
    throw usageError(`--rpc must be an http(s) URL such as ${DEFAULT_RPC_URL}, got ${JSON.stringify(url)}`);
  }
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** A KEYDIR's keys: the online key signs data and anchors; the offline address is the identity. */
async function keyDir(dir: string, passphraseFile: string | undefined): Promise<{ online: KeyPair; offline: KeyPair }> {
  const passphrase = passphraseFile === undefined ? undefined : await readPassphraseFile(passphraseFile);
  return loadKeyDir(dir, passphrase);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// data ingest / export

export interface IngestFlags {
  store?: string;
  table?: string;
  count?: string;
  keys?: string;
  passphraseFile?: string;
  devices: string;
  keyDirectory?: string;
  gatewayTable?: string;
  gatewayStore?: string;
}

export async function ingestCmd(out: Output, f: IngestFlags): Promise<void> {
  const spec = need(f.store, '--store STORE');
  const table = need(f.table, '--table T');
  const count = parseCount(f.count, '--count', 1);
  const dir = need(f.keys, '--keys KEYDIR');
  const devices = parseCount(f.devices, '--devices', 1);
  const keys = await keyDir(dir, f.passphraseFile);
  const service = keys.online;
  const identity = addressOf(keys.offline.type, keys.offline.publicKey);
  if (f.gatewayStore !== undefined && f.gatewayTable === undefined) throw usageError('--gateway-store needs --gateway-table G');
  const gatewayTable = f.gatewayTable;
  if (gatewayTable !== undefined && gatewayTable === table && (f.gatewayStore === undefined || f.gatewayStore === spec)) throw usageError('--gateway-table must differ from --table in the same store');
  const t0 = performance.now();
  const ingestInto = (store: DataStore, gatewayStore?: DataStore) =>
    ingestReadings({ store, table, count, service, identity, devices, ...(gatewayTable !== undefined ? { gatewayTable } : {}), ...(gatewayStore ? { gatewayStore } : {}) });
  const gatewayStoreSpec = f.gatewayStore !== undefined && f.gatewayStore !== spec ? f.gatewayStore : undefined;
  const r = await withStore(spec, (store) => (gatewayStoreSpec === undefined ? ingestInto(store) : withStore(gatewayStoreSpec, (gs) => ingestInto(store, gs))));
  const seconds = (performance.now() - t0) / 1000;
  const directoryFile = f.keyDirectory ?? join(dir, 'directory.json');
  await mergeKeyDirectory(directoryFile, r.directory);
  const gw = r.gateway;
  out.result(
    {
      store: spec.startsWith('postgres') ? 'postgres' : 'leveldb', table, rows: r.rows, firstId: r.firstId ?? null, lastId: r.lastId ?? null,
      ...(gw ? { gateway: { table: gw.table, rows: gw.rows, firstId: gw.firstId ?? null, lastId: gw.lastId ?? null, groups: gw.groups } } : {}),
      keyDirectory: directoryFile, seconds: Number(seconds.toFixed(3)),
    },
    lines([
      ['table', table],
      ['rows', `${r.rows} signed ${gw ? 'rows (readings, aggregates, feedback)' : 'readings'} (ids ${r.firstId}..${r.lastId}), ${Math.round(r.rows / seconds)} rows/s`],
      ...(gw ? ([['gateway table', `${gw.table}: ${gw.rows} rows in ${gw.groups} groups (ids ${gw.firstId}..${gw.lastId}), linked to ${table} by groupId`]] as [string, string][]) : []),
      ['signers', `${devices} devices → gateway(s) → service ${toChecksumAddress(identity)} (online key ${toChecksumAddress(addressOf(service.type, service.publicKey))})`],
      ['keys', `public keys in ${directoryFile} (pass it to audit --key-directory)`],
    ]),
  );
}

export interface ExportFlags {
  store?: string;
  table?: string;
  out?: string;
}

export async function exportCmd(out: Output, f: ExportFlags): Promise<void> {
  const spec = need(f.store, '--store STORE');
  const table = need(f.table, '--table T');
  const file = need(f.out, '--out FILE.jsonl');
  const r = await withStore(spec, (store) => exportTable(store, table, file));
  out.result({ table, file, rows: r.rows, firstId: r.firstId ?? null, lastId: r.lastId ?? null }, lines([['table', table], ['rows', r.rows], ['file', file]]));
}

// ---------------------------------------------------------------------------------------------
// anchor run

export interface AnchorFlags {
  store?: string;
  table?: string;
  m?: string;
  n?: string;
  keys?: string;
  passphraseFile?: string;
  rpc: string;
  receipts?: string;
  once?: boolean;
  register?: boolean;
  fee: string;
  pollMs: string;
}

function batchLine(b: AnchoredBatch): string {
  return `anchored ${b.table} batch ${b.batch}: rows ${b.firstId}..${b.lastId} in ${b.subTables} sub-tables, root ${b.root}, height ${b.height}${b.recovered ? ' (completed after a restart)' : ''}`;
}

export async function anchorCmd(out: Output, f: AnchorFlags): Promise<void> {
  const spec = need(f.store, '--store STORE');
  const table = need(f.table, '--table T');
  const m = parseCount(f.m, '--m', 1);
  const n = parseCount(f.n, '--n', 1);
  const dir = need(f.receipts, '--receipts DIR');
  if (!/^(0|[1-9][0-9]{0,30})$/.test(f.fee)) throw usageError('--fee must be a decimal amount');
  const pollMs = parseCount(f.pollMs, '--poll-ms', 10);
  const keys = await keyDir(need(f.keys, '--keys KEYDIR'), f.passphraseFile);
  const identity = addressOf(keys.offline.type, keys.offline.publicKey);
  await withClient(f.rpc, async (client) => {
    if (f.register) {
      const r = await ensureRegistered(client, keys);
      if (!out.json && r === 'registered') out.io.out(`registered online key ${toChecksumAddress(addressOf(keys.online.type, keys.online.publicKey))} for identity ${toChecksumAddress(identity)}`);
    } else if ((await identityOfOnlineKey(client, addressOf(keys.online.type, keys.online.publicKey)).catch(() => undefined)) === undefined) {
      throw new InvalidMessageError(
        ERR.WRONG_SIGNER,
        `the online key of ${f.keys} is not registered on chain: storeRootHash must be signed by a registered online key (add --register to submit identity/submitPublicKey signed by its offline key)`,
      );
    }
    await withStore(spec, async (store) => {
      const daemon = new AnchorDaemon({ store, table, m, n, key: keys.online, identity, client, receipts: new ReceiptDir(resolve(dir)), fee: BigInt(f.fee) });
      if (f.once) {
        const batches = await daemon.runOnce((b) => {
          if (!out.json) out.io.out(batchLine(b));
        });
        const rows = batches.reduce((s, b) => s + b.rows, 0);
        out.result({ table, batches, rows }, `${batches.length} batch(es), ${rows} rows anchored; receipts in ${dir}`);
        return;
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        if (!out.json) out.io.out(`watching ${table} in ${store.location}: every ${m} rows → ${Math.min(m, n)} sub-tables (Ctrl-C stops)`);
        await daemon.run(stop.signal, pollMs, (b) => out.io.out(out.json ? JSON.stringify(b) : batchLine(b)));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// audit

export interface AuditFlags {
  rows?: string;
  receipts?: string;
  rpc?: string;
  bundle?: string;
  genesis?: string;
  keyDirectory?: string;
  submitter?: string;
  gatewayTable?: boolean;
  gatewayRows?: string;
  gatewayReceipts?: string;
  gatewaySubmitter?: string;
  gatewayAddress?: string;
  chainKeys?: boolean;
}

async function trustFromGenesis(file: string): Promise<Trust> {
  const g = await loadGenesis(file);
  return { chainId: g.chainId, validators: g.validators, source: 'genesis-file' };
}

async function receiptsOf(dir: ReceiptDir, tables: readonly string[]): Promise<{ byTable: Map<string, Receipt[]>; errors: { file: string; detail: string }[] }> {
  const byTable = new Map<string, Receipt[]>();
  const errors: { file: string; detail: string }[] = [];
  for (const t of tables) {
    const r = await dir.receipts(t);
    byTable.set(t, r.receipts.map((x) => x.receipt));
    errors.push(...r.errors);
  }
  return { byTable, errors };
}

function humanReport(r: AuditReport, trustText: string, keysText = 'the key directory'): string[] {
  const out: string[] = [`chain ${r.chainId} (trust: ${trustText})`];
  const sideOf = (x: { side?: string }) => (x.side ? `${x.side} ` : '');
  for (const t of r.tables) {
    out.push(
      `${sideOf(t)}table ${t.table}: ${t.rows} rows in the export; ${t.batches} batch(es) on chain${t.submitter ? ` by ${t.submitter}` : ''} up to id ${t.lastAnchoredId}` +
        (t.pending ? `; ${t.pending.count} row(s) not anchored yet (ids ${t.pending.firstId}..${t.pending.lastId})` : ''),
    );
  }
  for (const s of r.subTables) {
    const where = `${sideOf(s)}${s.table} batch ${s.batch ?? '-'} sub-table ${s.leafIndex}/${s.treeSize} rows ${s.firstId}..${s.lastId}`;
    out.push(`${s.status.padEnd(8)}  ${where}${s.status === 'OK' ? '' : `  ${s.reason}: ${s.detail ?? ''}`}`);
  }
  for (const x of r.strayRows) out.push(`TAMPERED  ${sideOf(x)}${x.table} row ${x.id} lies in anchored territory but in no anchored batch`);
  for (const m of r.malformed) out.push(`MALFORMED ${m.side ? `${m.side} export ` : ''}line ${m.line}: ${m.detail}`);
  for (const e of r.receiptErrors) out.push(`BAD RECEIPT ${e.file}: ${e.detail}`);
  if (r.signatures.checked) {
    out.push(`signatures: ${r.signatures.rows} rows checked against keys from ${keysText}, ${r.signatures.failures.length} failed`);
    for (const f of r.signatures.failures.slice(0, 50)) out.push(`  ${sideOf(f)}row ${f.table}/${f.id}: ${f.reason}: ${f.detail}`);
    if (r.signatures.failures.length > 50) out.push(`  … ${r.signatures.failures.length - 50} more (use --json)`);
  } else {
    out.push('signatures: not checked (give --key-directory FILE and/or --chain-keys)');
  }
  const x = r.crossCheck;
  if (x) {
    out.push(
      `cross-check service ${x.serviceTables.join(', ')} ↔ gateway ${x.gatewayTables.join(', ')} through groupId: ${x.groups} group(s), ${x.agree} agree, ${x.differ} differ` +
        (x.pending ? `, ${x.pending} pending (command relayed, no feedback yet)` : ''),
    );
    for (const gr of x.results.filter((y) => y.status === 'DIFFER').slice(0, 50)) {
      out.push(`DIFFER    group ${gr.groupId} (${gr.flow}): ${gr.reason}${gr.members ? ` (${gr.members})` : ''}${gr.side ? `, ${gr.side} side` : ''}: ${gr.detail ?? ''}`);
    }
    if (x.differ > 50) out.push(`  … ${x.differ - 50} more (use --json)`);
  }
  const bad = r.subTables.filter((s) => s.status !== 'OK').length;
  const extra = [
    ...(r.signatures.failures.length ? [`${r.signatures.failures.length} signature failure(s)`] : []),
    ...(x?.differ ? [`${x.differ} group(s) differ between gateway and service`] : []),
  ];
  out.push(r.ok ? `result: OK (${r.subTables.length} sub-tables verified${x ? `, ${x.agree} group(s) agree` : ''})` : `result: TAMPERED (${bad} of ${r.subTables.length} sub-tables${extra.map((e) => `, ${e}`).join('')})`);
  return out;
}

export async function auditCmd(out: Output, f: AuditFlags): Promise<void> {
  const rowsFile = need(f.rows, '--rows FILE.jsonl');
  const dir = new ReceiptDir(resolve(need(f.receipts, '--receipts DIR')));
  if (f.bundle !== undefined && f.rpc !== undefined) throw usageError('give either --rpc URL (online) or --bundle FILE (offline), not both');
  if (f.bundle !== undefined && f.genesis === undefined) throw usageError('--bundle needs --genesis FILE (the validator set to trust)');
  if (f.gatewayRows === undefined && (f.gatewayReceipts ?? f.gatewaySubmitter ?? f.gatewayAddress) !== undefined) {
    throw usageError('--gateway-receipts, --gateway-submitter and --gateway-address go with --gateway-rows FILE.jsonl');
  }
  if (f.gatewayRows !== undefined && f.gatewayTable) throw usageError('--gateway-table says --rows is a gateway\'s table; with --gateway-rows, --rows is the service\'s');
  for (const file of [rowsFile, ...(f.gatewayRows !== undefined ? [f.gatewayRows] : [])]) {
    if (!(await exists(file))) throw new InvalidMessageError(ERR.NOT_FOUND, `no such file: ${file}`);
  }
  const submitter = f.submitter === undefined ? undefined : parseAddress(f.submitter, '--submitter');
  const directory = f.keyDirectory === undefined ? undefined : historyOf(await loadKeyDirectory(f.keyDirectory));
  const { rows, malformed } = await readRowsFile(rowsFile);
  const grouped = groupByTable(rows);
  const { byTable, errors } = await receiptsOf(dir, [...grouped.keys()]);
  const verify = f.gatewayTable ? { minGateways: 0, requireService: false } : {};
  let gateway: GatewayAuditInput | undefined;
  if (f.gatewayRows !== undefined) {
    const g = await readRowsFile(f.gatewayRows);
    const gGrouped = groupByTable(g.rows);
    const gDir = f.gatewayReceipts === undefined ? dir : new ReceiptDir(resolve(f.gatewayReceipts));
    const gr = await receiptsOf(gDir, [...gGrouped.keys()]);
    gateway = {
      tables: [...gGrouped.entries()].map(([table, r]) => ({ table, rows: r, receipts: gr.byTable.get(table) ?? [] })),
      malformed: g.malformed,
      receiptErrors: gr.errors,
      ...(f.gatewaySubmitter !== undefined ? { submitter: parseAddress(f.gatewaySubmitter, '--gateway-submitter') } : {}),
      ...(f.gatewayAddress !== undefined ? { address: parseAddress(f.gatewayAddress, '--gateway-address') } : {}),
    };
  }
  const run = async (source: ProofSource): Promise<void> => {
    const view = new AnchorView(source);
    // --chain-keys: identities' key histories from proven identity/keyHistory answers; the directory for plain keys.
    const keys: KeyHistory | undefined = f.chainKeys ? new ChainKeyHistory(source, directory) : directory;
    const report = await audit(
      [...grouped.entries()].map(([table, r]) => ({ table, rows: r, receipts: byTable.get(table) ?? [] })),
      { view, ...(keys ? { keys } : {}), verify, malformed, receiptErrors: errors, ...(submitter ? { submitter } : {}), ...(gateway ? { gateway } : {}) },
    );
    const trustText = source.trust.source === 'genesis-file' ? `validators of ${f.genesis}` : 'validators reported by the RPC node';
    const keysText = f.chainKeys ? `the chain (proven identity/keyHistory)${directory ? ` and ${f.keyDirectory} for signers without an on-chain identity` : ''}` : f.keyDirectory;
    out.result({ ...report }, humanReport(report, trustText, keysText), report.ok ? 0 : 1);
  };
  if (f.bundle !== undefined) {
    await run(new BundleProofSource(await loadBundle(f.bundle), await trustFromGenesis(f.genesis!)));
    return;
  }
  await withClient(f.rpc ?? DEFAULT_RPC_URL, async (client) => {
    const source = f.genesis !== undefined ? new RpcProofSource(client, await trustFromGenesis(f.genesis)) : await RpcProofSource.fromNode(client);
    await run(source);
  });
}

export interface BundleFlags {
  receipts?: string;
  gatewayReceipts?: string;
  rows?: string;
  gatewayRows?: string;
  rpc?: string;
  out?: string;
  table?: string[];
  submitter?: string;
  genesis?: string;
}

export async function bundleCmd(out: Output, f: BundleFlags): Promise<void> {
  const dir = new ReceiptDir(resolve(need(f.receipts, '--receipts DIR')));
  const file = need(f.out, '--out FILE');
  const submitter = f.submitter === undefined ? undefined : parseAddress(f.submitter, '--submitter');
  const tables = f.table && f.table.length > 0 ? f.table : await dir.tables();
  const { byTable } = await receiptsOf(dir, tables);
  await withClient(f.rpc ?? DEFAULT_RPC_URL, async (client) => {
    const source = f.genesis !== undefined ? new RpcProofSource(client, await trustFromGenesis(f.genesis)) : await RpcProofSource.fromNode(client);
    const view = new AnchorView(source);
    // The audit's chain lookups do not depend on the rows: run them once to record every proven answer.
    for (const t of tables) await auditTable({ table: t, rows: [], receipts: byTable.get(t) ?? [], ...(submitter ? { submitter } : {}) }, { view });
    if (f.gatewayReceipts !== undefined) {
      // A gateway's tables, anchored by whoever anchors them (the submitter its receipts name).
      const gDir = new ReceiptDir(resolve(f.gatewayReceipts));
      const gTables = await gDir.tables();
      const g = await receiptsOf(gDir, gTables);
      for (const t of gTables) await auditTable({ table: t, rows: [], receipts: g.byTable.get(t) ?? [] }, { view });
    }
    // --rows / --gateway-rows: also the key histories of every signer in those exports (for audit --chain-keys offline).
    const exports = [f.rows, f.gatewayRows].filter((x): x is string => x !== undefined);
    if (exports.length > 0) {
      const all: Row[] = [];
      for (const file of exports) all.push(...(await readRowsFile(file)).rows);
      await new ChainKeyHistory(source).prepare(signersOf(all));
    }
    const b = source.bundle();
    await saveBundle(file, b);
    out.result({ file, chainId: b.chainId, tables, answers: b.answers.length, blocks: b.blocks.length }, lines([['bundle', file], ['tables', tables.join(', ') || '(none)'], ['answers', `${b.answers.length} proven answers, ${b.blocks.length} certified header(s)`]]));
  });
}
