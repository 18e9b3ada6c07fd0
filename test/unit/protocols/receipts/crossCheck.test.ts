// The gateway/service cross-check through groupId (Fig. 5e/5f), on the two tables `data ingest
// --gateway-table` writes: they agree, and every kind of disagreement is named with its groupId,
// the rows involved and, where it can be told, the side at fault. No chain here: auditor-level
// tests with anchors are in crossCheckAudit.test.ts.
import t from 'tap';
import { utf8, toHex } from '../../../../lib/hex.js';
import { sha256 } from '../../../../crypto/hash.js';
import { KeyType, keyPairFromPrivate } from '../../../../crypto/keys.js';
import { syntheticGroupStep, syntheticSigners } from '../../../../protocols/receipts/ingest.js';
import { crossCheckGroups, summarizeGroups, type GroupReport } from '../../../../protocols/receipts/auditorCrossCheck.js';
import { GATEWAY_TABLE_SHAPE } from '../../../../protocols/receipts/auditor.js';
import { historyOf, resolverAt } from '../../../../protocols/receipts/keyHistory.js';
import { ReplayGuard, signReading } from '../../../../protocols/receipts/signatureChain.js';
import { verifyRow, type Row } from '../../../../protocols/receipts/rows.js';
import { fastChainSigner } from '../../../../protocols/receipts/ingest.js';
import { entity } from './fixture.js';

const svc = entity('crosscheck-service');
const signers = syntheticSigners(svc.online, 4, 2, svc.identity);

type RowOf<K extends Row['kind']> = Extract<Row, { kind: K }>;

/** Steps 0..11: service rows 1..12, gateway rows 1..13 (groups 3, 7, 11 aggregates; 4, 8, 12 commands). */
function tables(): { service: Row[]; gateway: Row[] } {
  const service: Row[] = [];
  const gateway: Row[] = [];
  for (let i = 0; i < 12; i++) {
    const s = syntheticGroupStep(signers, i);
    for (const r of s.gateway) gateway.push({ ...r, id: gateway.length + 1, table: 'gw' } as Row);
    service.push({ ...s.service, id: service.length + 1, table: 'svc' } as Row);
  }
  return { service, gateway };
}

const byGroup = (r: GroupReport[], g: number) => r.find((x) => x.groupId === g)!;
const differing = (r: GroupReport[]) => r.filter((x) => x.status !== 'AGREE').map((x) => `${x.groupId} ${x.status} ${x.reason ?? ''}${x.members ? `/${x.members}` : ''} ${x.side ?? '?'}`);

t.test('the two tables ingest writes agree, and every row verifies', async (t) => {
  const { service, gateway } = tables();
  t.same(gateway.map((r) => `${r.id}:${r.groupId}:${r.kind}`), [
    '1:3:reading', '2:3:reading', '3:4:command', '4:4:feedback', '5:7:reading', '6:7:reading', '7:7:reading',
    '8:8:command', '9:8:feedback', '10:11:reading', '11:11:reading', '12:12:command', '13:12:feedback',
  ], 'the gateway keeps the members of its aggregates and the command and feedback of each command');
  t.same(service.map((r) => r.kind), ['reading', 'reading', 'aggregate', 'feedback', 'reading', 'reading', 'aggregate', 'feedback', 'reading', 'reading', 'aggregate', 'feedback']);
  const keys = historyOf(signers.directory);
  const sg = new ReplayGuard();
  for (const r of service) t.same(verifyRow(r, resolverAt(keys, 1), { replayGuard: sg }), { ok: true }, `service row ${r.id} (${r.kind}) verifies`);
  const gg = new ReplayGuard();
  for (const r of gateway) t.same(verifyRow(r, resolverAt(keys, 1), { ...GATEWAY_TABLE_SHAPE, replayGuard: gg }), { ok: true }, `gateway row ${r.id} (${r.kind}) verifies`);
  const res = crossCheckGroups(service, gateway);
  t.same(res.map((x) => [x.groupId, x.flow, x.status]), [
    [3, 'aggregate', 'AGREE'], [4, 'command', 'AGREE'], [7, 'aggregate', 'AGREE'], [8, 'command', 'AGREE'], [11, 'aggregate', 'AGREE'], [12, 'command', 'AGREE'],
  ]);
  t.same(summarizeGroups(res), { groups: 6, agree: 6, differ: 0, pending: 0 });
  t.same(byGroup(res, 7).gatewayRows.map((x) => x.id), [5, 6, 7]);
  t.same(byGroup(res, 7).serviceRows, [{ side: 'service', table: 'svc', id: 7 }]);
  t.same(crossCheckGroups(service.slice(0, 2), []), [], 'rows without groupId are in no group');
});

t.test('members differ: a member dropped, one added, members reordered', async (t) => {
  const { service, gateway } = tables();
  let r = crossCheckGroups(service, gateway.filter((x) => x.id !== 6));
  t.same(differing(r), ['7 DIFFER members-differ/member-dropped gateway']);
  const dropped = (gateway.find((x) => x.id === 6) as RowOf<'reading'>).envelope.reading;
  t.match(byGroup(r, 7).detail, new RegExp(`commits to 3 member\\(s\\), the gateway's table has 2.*missing from the gateway's table: device ${toHex(dropped.deviceId)} seq ${dropped.seq}`));

  const intruder = signReading(signers.devices[3]!, { seq: 9999, timestamp: 1, data: utf8('t=0') });
  const added: Row = { id: 14, table: 'gw', groupId: 3, kind: 'reading', envelope: intruder };
  r = crossCheckGroups(service, [...gateway, added]);
  t.same(differing(r), ['3 DIFFER members-differ/member-added gateway']);
  t.match(byGroup(r, 3), { rows: [{ side: 'gateway', id: 14 }, { side: 'service', id: 3 }], detail: /not in the aggregate: gateway row\(s\) gw\/14/ });

  // The gateway's rows 5 and 6 exchange contents (same ids): the same members, in another order.
  const swapped = gateway.map((x) => (x.id === 5 ? { ...gateway[5]!, id: 5 } : x.id === 6 ? { ...gateway[4]!, id: 6 } : x));
  r = crossCheckGroups(service, swapped);
  t.same(differing(r), ['7 DIFFER members-differ/member-mismatch gateway']);
  t.match(byGroup(r, 7).detail, /the same readings in another order/);
});

t.test('altered on one side: a member in the gateway, a member inside the service aggregate', async (t) => {
  const { service, gateway } = tables();
  const alter = (x: RowOf<'reading'>): Row => ({ ...x, envelope: { ...x.envelope, reading: { ...x.envelope.reading, data: utf8('t=99.99;h=0.0') } } });
  let r = crossCheckGroups(service, gateway.map((x) => (x.id === 10 ? alter(x as RowOf<'reading'>) : x)));
  t.same(differing(r), ['11 DIFFER altered/member-mismatch gateway']);
  t.match(byGroup(r, 11), { rows: [{ side: 'gateway', table: 'gw', id: 10 }, { side: 'service', id: 11 }], detail: /gateway row gw\/10 .* differs from the service's copy in aggregate svc\/11; the gateway's table is the one that differs/ });

  const agg = service.find((x) => x.id === 3) as RowOf<'aggregate'>;
  const members = agg.envelope.members.map((m, i) => (i === 1 ? { ...m, data: utf8('t=-1') } : m));
  r = crossCheckGroups(service.map((x) => (x === agg ? { ...agg, envelope: { ...agg.envelope, members } } : x)), gateway);
  t.same(differing(r), ['3 DIFFER altered service']);
  t.match(byGroup(r, 3), { rows: [{ side: 'service', id: 3 }], detail: /carries members that differ from the ones its gateway signed for/ });
});

t.test('altered on one side: command and feedback', async (t) => {
  const { service, gateway } = tables();
  // The gateway's command row no longer matches the command inside its own feedback row: the gateway's table changed.
  const cmdRow = gateway.find((x) => x.id === 8) as RowOf<'command'>;
  let r = crossCheckGroups(service, gateway.map((x) => (x === cmdRow ? { ...cmdRow, envelope: { ...cmdRow.envelope, command: utf8('reboot') } } : x)));
  t.same(differing(r), ['8 DIFFER altered gateway']);
  t.match(byGroup(r, 8), { rows: [{ side: 'gateway', id: 8 }, { side: 'service', id: 8 }], detail: /the command in gateway gw\/8 differs/ });

  // The service's feedback text changed: the records alone cannot say who changed it…
  const fb = service.find((x) => x.id === 12) as RowOf<'feedback'>;
  const edited = service.map((x) => (x === fb ? { ...fb, envelope: { ...fb.envelope, feedback: { ...fb.envelope.feedback, feedback: utf8('failed') } } } : x));
  r = crossCheckGroups(edited, gateway);
  t.same(differing(r), ['12 DIFFER altered ?']);
  t.match(byGroup(r, 12).detail, /the device's feedback in gateway gw\/13 differs from the service's feedback svc\/12; which side was changed cannot be told/);
  // …the audit can: the service's row failed its signatures (or lies in a tampered sub-table).
  r = crossCheckGroups(edited, gateway, { suspect: (x) => x.side === 'service' && x.id === 12 });
  t.same(differing(r), ['12 DIFFER altered service']);
});

t.test('missing on one side; a command still waiting for its feedback; unexpected rows', async (t) => {
  const { service, gateway } = tables();
  let r = crossCheckGroups(service, gateway.filter((x) => x.groupId !== 12));
  t.same(differing(r), ['12 DIFFER missing-in-gateway gateway']);
  t.match(byGroup(r, 12), { rows: [{ side: 'service', id: 12 }] });
  r = crossCheckGroups(service, gateway.filter((x) => x.id !== 9));
  t.same(differing(r), ['8 DIFFER missing-in-gateway gateway']);
  t.match(byGroup(r, 8).detail, /has no feedback row in the gateway's table/);
  r = crossCheckGroups(service.filter((x) => x.id !== 7), gateway);
  t.same(differing(r), ['7 DIFFER missing-in-service service']);
  t.match(byGroup(r, 7), { rows: [{ id: 5 }, { id: 6 }, { id: 7 }], detail: /have no aggregate in the service's table/ });
  r = crossCheckGroups(service.filter((x) => x.id !== 4), gateway);
  t.same(differing(r), ['4 DIFFER missing-in-service service']);

  r = crossCheckGroups(service.filter((x) => x.id !== 12), gateway.filter((x) => x.id !== 13));
  t.same(differing(r), ['12 PENDING  ?'], 'a relayed command with no feedback yet is pending, not a failure');
  t.same(summarizeGroups(r), { groups: 6, agree: 5, differ: 0, pending: 1 });

  const stray: Row = { ...(service[0] as RowOf<'reading'>), id: 13, groupId: 3 };
  r = crossCheckGroups([...service, stray], gateway);
  t.same(differing(r), ['3 DIFFER unexpected-rows service']);
  const cmd = gateway.find((x) => x.id === 3)!;
  r = crossCheckGroups(service, [...gateway, { ...cmd, id: 14, groupId: 7 }]);
  t.same(differing(r), ['7 DIFFER unexpected-rows gateway']);
});

t.test("only one gateway's groups", async (t) => {
  const { service, gateway } = tables();
  t.same(summarizeGroups(crossCheckGroups(service, gateway, { gateway: signers.gateways[0]!.address })), { groups: 6, agree: 6, differ: 0, pending: 0 });
  const other = fastChainSigner(keyPairFromPrivate(KeyType.p256, sha256(utf8('another gateway')))).address;
  const r = crossCheckGroups(service, gateway, { gateway: other });
  t.same(differing(r).map((x) => x.split(' ').slice(0, 3).join(' ')), ['3 DIFFER missing-in-service', '4 DIFFER missing-in-service', '7 DIFFER missing-in-service', '8 DIFFER missing-in-service', '11 DIFFER missing-in-service', '12 DIFFER missing-in-service'], "another gateway's table shares none of these groups");
});
