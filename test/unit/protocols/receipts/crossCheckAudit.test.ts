// The auditor with a service's and a gateway's export (Fig. 5e/5f) against a real node: each side's
// sub-tables and signatures, then the cross-check through groupId. The gateway keeps its own
// database and anchors its table under its own identity. Tampering after anchoring shows in both the
// sub-table verdicts and the cross-check; a gateway that stored something else than it forwarded
// (before anchoring: the anchors cannot see it) is caught by the cross-check alone.
import t from 'tap';
import { join } from 'node:path';
import { toHex, utf8 } from '../../../../lib/hex.js';
import { loadGenesis } from '../../../../node/config.js';
import { LevelDataStore } from '../../../../protocols/receipts/levelDataStore.js';
import { ingestReadings, syntheticGroupStep, syntheticSigners } from '../../../../protocols/receipts/ingest.js';
import { AnchorDaemon } from '../../../../protocols/receipts/anchorDaemon.js';
import { ReceiptDir } from '../../../../protocols/receipts/receiptDir.js';
import type { Receipt } from '../../../../protocols/receipts/merkleReceipt.js';
import { AnchorView, RpcProofSource } from '../../../../protocols/receipts/auditView.js';
import { audit, type AuditReport } from '../../../../protocols/receipts/auditor.js';
import { historyOf } from '../../../../protocols/receipts/keyHistory.js';
import type { DataStore, NewRow } from '../../../../protocols/receipts/dataStore.js';
import type { Row } from '../../../../protocols/receipts/rows.js';
import { entity, register, startNode, tempDir } from './fixture.js';

const svc = entity('xaudit-service');
const gwOp = entity('xaudit-gateway');

type RowOf<K extends Row['kind']> = Extract<Row, { kind: K }>;

const tampered = (r: AuditReport) => r.subTables.filter((s) => s.status !== 'OK').map((s) => `${s.side} ${s.table} ${s.firstId}..${s.lastId} ${s.reason}`);
const groups = (r: AuditReport) => r.crossCheck!.results.filter((g) => g.status !== 'AGREE').map((g) => `${g.groupId} ${g.status} ${g.reason}${g.members ? `/${g.members}` : ''} ${g.side ?? '?'}`);

async function scan(store: DataStore, table: string): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of store.scan(table)) out.push(r);
  return out;
}

t.test('auditor: a gateway table cross-checked with the service table', async (t) => {
  const n = await startNode(t);
  await register(n, svc);
  await register(n, gwOp);
  const dir = await tempDir(t);
  const store = new LevelDataStore(join(dir, 'service-db'));
  t.teardown(() => store.close());
  const gwStore = new LevelDataStore(join(dir, 'gateway-db'));
  t.teardown(() => gwStore.close());
  const svcReceipts = new ReceiptDir(join(dir, 'receipts-service'));
  const gwReceipts = new ReceiptDir(join(dir, 'receipts-gateway'));

  const ing = await ingestReadings({ store, table: 'svc', count: 24, service: svc.online, identity: svc.identity, devices: 4, gatewayTable: 'gw', gatewayStore: gwStore });
  t.match(ing, { rows: 24, firstId: 1, lastId: 24, gateway: { table: 'gw', rows: 27, firstId: 1, lastId: 27, groups: 12 } });
  await new AnchorDaemon({ store, table: 'svc', m: 8, n: 4, key: svc.online, identity: svc.identity, client: n.client, receipts: svcReceipts }).runOnce();
  await new AnchorDaemon({ store: gwStore, table: 'gw', m: 9, n: 3, key: gwOp.online, identity: gwOp.identity, client: n.client, receipts: gwReceipts }).runOnce();
  const sRows = await scan(store, 'svc');
  const gRows = await scan(gwStore, 'gw');
  const sRc: Receipt[] = (await svcReceipts.receipts('svc')).receipts.map((x) => x.receipt);
  const gRc: Receipt[] = (await gwReceipts.receipts('gw')).receipts.map((x) => x.receipt);
  const genesis = await loadGenesis(n.genesisFile);
  const view = new AnchorView(new RpcProofSource(n.client, { chainId: genesis.chainId, validators: genesis.validators, source: 'genesis-file' }));
  const keys = historyOf(ing.directory);
  const run = (s: readonly Row[], g: readonly Row[], extra: { sRc?: Receipt[]; gRc?: Receipt[]; sTable?: string; gTable?: string } = {}) =>
    audit([{ table: extra.sTable ?? 'svc', rows: s, receipts: extra.sRc ?? sRc }], { view, keys, gateway: { tables: [{ table: extra.gTable ?? 'gw', rows: g, receipts: extra.gRc ?? gRc }] } });

  t.test('both sides verify and every group agrees', async (t) => {
    const r = await run(sRows, gRows);
    t.ok(r.ok);
    t.same(tampered(r), []);
    t.equal(r.subTables.filter((s) => s.side === 'service').length, 12, 'service: 3 batches of 4 sub-tables');
    t.equal(r.subTables.filter((s) => s.side === 'gateway').length, 9, 'gateway: 3 batches of 3 sub-tables');
    t.match(r.tables, [
      { side: 'service', table: 'svc', batches: 3, submitter: toHex(svc.identity) },
      { side: 'gateway', table: 'gw', batches: 3, submitter: toHex(gwOp.identity) },
    ]);
    t.match(r.signatures, { checked: true, rows: 24 + 27, failures: [] });
    t.match(r.crossCheck, { groups: 12, agree: 12, differ: 0, pending: 0, serviceTables: ['svc'], gatewayTables: ['gw'] });
  });

  t.test("a member row deleted from the gateway's export: its sub-table and its group", async (t) => {
    const victim = gRows.find((x) => x.groupId === 7 && x.kind === 'reading')!;
    const r = await run(sRows, gRows.filter((x) => x !== victim));
    t.notOk(r.ok);
    const sub = r.subTables.find((s) => s.side === 'gateway' && s.firstId <= victim.id && victim.id <= s.lastId)!;
    t.same(tampered(r), [`gateway gw ${sub.firstId}..${sub.lastId} rows-differ`]);
    t.same(groups(r), ['7 DIFFER members-differ/member-dropped gateway']);
  });

  t.test("the service's stored feedback edited: its sub-table, its signature, its group", async (t) => {
    const fb = sRows.find((x) => x.groupId === 16) as RowOf<'feedback'>;
    const edited: Row = { ...fb, envelope: { ...fb.envelope, feedback: { ...fb.envelope.feedback, feedback: utf8('failed') } } };
    const r = await run(sRows.map((x) => (x === fb ? edited : x)), gRows);
    t.same(tampered(r), ['service svc 15..16 rows-differ']);
    t.match(r.signatures.failures, [{ side: 'service', id: 16, reason: 'bad-signature', signer: { role: 'device' } }]);
    t.same(groups(r), ['16 DIFFER altered service']);
    t.match(r.crossCheck!.results.find((g) => g.groupId === 16)!.detail, /the device's feedback in gateway gw\/\d+ differs from the service's feedback svc\/16; the service's row is the one that differs/);
  });

  t.test('a gateway that stored something else than it forwarded, and dropped a group: anchored as is, caught by the cross-check', async (t) => {
    const signers = syntheticSigners(svc.online, 4, 2, svc.identity);
    const service: NewRow[] = [];
    const gateway: NewRow[] = [];
    for (let i = 0; i < 8; i++) {
      const s = syntheticGroupStep(signers, i);
      service.push(s.service);
      if (i === 7) continue; // the gateway never kept group 8 (a command and its feedback)
      gateway.push(
        ...s.gateway.map((row, j): NewRow => (i === 2 && j === 1 && row.kind === 'reading' ? { ...row, envelope: { ...row.envelope, reading: { ...row.envelope.reading, data: utf8('t=0.00;h=0.0') } } } : row)),
      );
    }
    await store.append('svc2', service);
    await gwStore.append('gw2', gateway);
    await new AnchorDaemon({ store, table: 'svc2', m: 8, n: 4, key: svc.online, identity: svc.identity, client: n.client, receipts: svcReceipts }).runOnce();
    await new AnchorDaemon({ store: gwStore, table: 'gw2', m: 7, n: 2, key: gwOp.online, identity: gwOp.identity, client: n.client, receipts: gwReceipts }).runOnce();
    const s2 = await scan(store, 'svc2');
    const g2 = await scan(gwStore, 'gw2');
    const r = await run(s2, g2, {
      sTable: 'svc2',
      gTable: 'gw2',
      sRc: (await svcReceipts.receipts('svc2')).receipts.map((x) => x.receipt),
      gRc: (await gwReceipts.receipts('gw2')).receipts.map((x) => x.receipt),
    });
    t.same(tampered(r), [], 'every sub-table matches its anchor: the rows were stored like this');
    t.match(r.signatures.failures, [{ side: 'gateway', table: 'gw2', id: 2, reason: 'bad-signature', signer: { role: 'device' } }]);
    t.same(groups(r), ['3 DIFFER altered/member-mismatch gateway', '8 DIFFER missing-in-gateway gateway']);
    t.match(r.crossCheck!.results.find((g) => g.groupId === 3), { rows: [{ side: 'gateway', table: 'gw2', id: 2 }, { side: 'service', table: 'svc2', id: 3 }] });
    t.notOk(r.ok);
  });
});
