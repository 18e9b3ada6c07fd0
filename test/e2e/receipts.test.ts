// End to end, with real CLI processes against a running node: ingest 10,000 signed readings, anchor
// them with m = 400, n = 4, export, tamper one row, and the auditor names exactly that sub-table —
// online and offline (proof bundle + genesis) — on LevelDB and on PostgreSQL (IOTCHAIN_TEST_PG_URL,
// set by .ci/run; skipped with a message when absent). Then a gateway's table beside the service's
// (Fig. 5e/5f): `data ingest --gateway-table` writes both, each is anchored by its own operator, and
// `audit --gateway-rows` cross-checks them through groupId, with key histories from the chain.
import t from 'tap';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import pino from 'pino';
import { initHome } from '../../node/home.js';
import { createNode } from '../../node/node.js';
import { paths } from '../../node/config.js';
import { runCli } from '../utils/proc.js';
import { fastBlocks, tempDir } from '../unit/protocols/receipts/fixture.js';

// Two CLI scenarios of a dozen and more processes each: more than the default 300 s per file on a busy machine.
t.setTimeout(600_000);

const PG_URL = process.env.IOTCHAIN_TEST_PG_URL;
const COUNT = 10_000;

interface AuditJson {
  ok: boolean;
  subTables: { status: string; firstId: number; lastId: number; reason?: string; batch: number; leafIndex: number }[];
  signatures: { checked: boolean; rows: number; failures: { id: number; reason: string }[] };
  tables: { batches: number; lastAnchoredId: number }[];
}

async function scenario(t: Tap, store: (dir: string) => string, table: string): Promise<void> {
  const dir = await tempDir(t, 'iotchain-e2e-receipts-');
  const home = join(dir, 'home');
  await initHome({ home, chainId: 'e2e-receipts', rpcPort: 0 });
  await fastBlocks(home);
  const node = await createNode({ home, logger: pino({ level: 'silent' }) });
  await node.start();
  t.teardown(() => node.stop());
  const rpc = node.rpcUrl!;
  const keys = join(dir, 'keys');
  const receipts = join(dir, 'receipts');
  const rowsFile = join(dir, 'rows.jsonl');
  const STORE = store(dir);
  const ok = async (args: string[]) => {
    const r = await runCli(args, 120_000);
    t.equal(r.code, 0, `iotchain ${args.slice(0, 2).join(' ')}${r.code ? `: ${r.stderr}${r.stdout}` : ''}`);
    return r;
  };
  await ok(['keys', 'new', '--out', keys, '--insecure', '--curve', 'p256', '--json']);
  const ing = JSON.parse((await ok(['data', 'ingest', '--store', STORE, '--table', table, '--count', String(COUNT), '--keys', keys, '--json'])).stdout) as { rows: number };
  t.equal(ing.rows, COUNT);
  const anc = JSON.parse((await ok(['anchor', 'run', '--store', STORE, '--table', table, '--m', '400', '--n', '4', '--keys', keys, '--rpc', rpc, '--receipts', receipts, '--once', '--register', '--json'])).stdout) as { rows: number; batches: unknown[] };
  t.equal(anc.batches.length, 25, '25 batches of 400');
  t.equal(anc.rows, COUNT);
  await ok(['data', 'export', '--store', STORE, '--table', table, '--out', rowsFile, '--json']);
  const auditArgs = ['--rows', rowsFile, '--receipts', receipts, '--key-directory', join(keys, 'directory.json'), '--json'];
  const clean = JSON.parse((await ok(['audit', ...auditArgs, '--rpc', rpc, '--genesis', paths(home).genesis])).stdout) as AuditJson;
  t.ok(clean.ok, 'the untouched export passes');
  t.equal(clean.subTables.length, 100);
  t.match(clean.signatures, { checked: true, rows: COUNT, failures: [] });

  // Tamper one row: change one reading's data in the export (row 5555 in id order).
  const lines = (await readFile(rowsFile, 'utf8')).trimEnd().split('\n');
  const victim = JSON.parse(lines[5554]!) as { id: number; envelope: { reading: { data: string } } };
  victim.envelope.reading.data = '0x' + Buffer.from('t=-40.00;h=0.0').toString('hex');
  lines[5554] = JSON.stringify(victim);
  await writeFile(rowsFile, lines.join('\n') + '\n');
  const expect = (a: AuditJson) => {
    const bad = a.subTables.filter((s) => s.status !== 'OK');
    t.equal(bad.length, 1, 'exactly one sub-table is named');
    t.ok(bad[0]!.firstId <= victim.id && victim.id <= bad[0]!.lastId, `sub-table ${bad[0]!.firstId}..${bad[0]!.lastId} holds row ${victim.id}`);
    t.equal(bad[0]!.reason, 'rows-differ');
    t.same(a.signatures.failures.map((f) => f.id), [victim.id], "and the row's device signature fails");
  };
  const online = await runCli(['audit', ...auditArgs, '--rpc', rpc, '--genesis', paths(home).genesis], 120_000);
  t.equal(online.code, 1, 'exit code 1 on tampering');
  expect(JSON.parse(online.stdout) as AuditJson);

  const bundle = join(dir, 'bundle.json');
  await ok(['audit', 'bundle', '--receipts', receipts, '--rpc', rpc, '--genesis', paths(home).genesis, '--out', bundle, '--json']);
  await node.stop(); // offline from here on
  const offline = await runCli(['audit', ...auditArgs, '--bundle', bundle, '--genesis', paths(home).genesis], 120_000);
  t.equal(offline.code, 1, 'offline: exit code 1');
  expect(JSON.parse(offline.stdout) as AuditJson);
  const human = await runCli(['audit', ...auditArgs.filter((a) => a !== '--json'), '--bundle', bundle, '--genesis', paths(home).genesis], 120_000);
  t.match(human.stdout, /TAMPERED\s+\S+ batch \d+ sub-table \d\/4 rows \d+\.\.\d+\s+rows-differ/);
  t.match(human.stdout, /result: TAMPERED \(1 of 100 sub-tables/);
}

type Tap = Pick<typeof t, 'equal' | 'ok' | 'match' | 'same' | 'teardown'>;

t.test('LevelDB: 10,000 readings, m = 400, n = 4, one row tampered', async (t) => {
  await scenario(t, (dir) => join(dir, 'db'), 'readings');
});

t.test('PostgreSQL: the same', { skip: PG_URL ? false : 'IOTCHAIN_TEST_PG_URL is not set (.ci/run starts a PostgreSQL server and sets it)' }, async (t) => {
  await scenario(t, () => PG_URL!, `e2e_${process.pid}_${Date.now()}`);
});

interface CrossAuditJson extends AuditJson {
  tables: { side: string; table: string; batches: number; lastAnchoredId: number }[];
  subTables: (AuditJson['subTables'][number] & { side: string })[];
  signatures: AuditJson['signatures'] & { keys: string };
  crossCheck: { groups: number; agree: number; differ: number; pending: number; results: { groupId: number; status: string; reason?: string; members?: string; side?: string }[] };
}

t.test("a gateway's table and the service's (Fig. 5e/5f): ingest both, anchor each, cross-check through groupId, keys from the chain", async (t) => {
  const dir = await tempDir(t, 'iotchain-e2e-crosscheck-');
  const home = join(dir, 'home');
  await initHome({ home, chainId: 'e2e-crosscheck', rpcPort: 0 });
  await fastBlocks(home);
  const node = await createNode({ home, logger: pino({ level: 'silent' }) });
  await node.start();
  t.teardown(() => node.stop());
  const rpc = node.rpcUrl!;
  const genesis = paths(home).genesis;
  const ok = async (args: string[]) => {
    const r = await runCli(args, 120_000);
    t.equal(r.code, 0, `iotchain ${args.slice(0, 2).join(' ')}${r.code ? `: ${r.stderr}${r.stdout}` : ''}`);
    return r;
  };
  const [svcKeys, gwKeys] = [join(dir, 'service-keys'), join(dir, 'gateway-keys')];
  const [svcDb, gwDb] = [join(dir, 'service-db'), join(dir, 'gateway-db')];
  const [svcRc, gwRc] = [join(dir, 'service-receipts'), join(dir, 'gateway-receipts')];
  const [svcRows, gwRows] = [join(dir, 'service.jsonl'), join(dir, 'gateway.jsonl')];
  await ok(['keys', 'new', '--out', svcKeys, '--insecure', '--curve', 'p256', '--json']);
  await ok(['keys', 'new', '--out', gwKeys, '--insecure', '--curve', 'p256', '--json']);
  const ing = JSON.parse((await ok(['data', 'ingest', '--store', svcDb, '--table', 'readings', '--count', '40', '--keys', svcKeys, '--gateway-table', 'gw_readings', '--gateway-store', gwDb, '--json'])).stdout) as {
    rows: number;
    gateway: { table: string; rows: number; groups: number };
  };
  t.match(ing, { rows: 40, gateway: { table: 'gw_readings', rows: 45, groups: 20 } });
  await ok(['anchor', 'run', '--store', svcDb, '--table', 'readings', '--m', '8', '--n', '4', '--keys', svcKeys, '--rpc', rpc, '--receipts', svcRc, '--once', '--register', '--json']);
  await ok(['anchor', 'run', '--store', gwDb, '--table', 'gw_readings', '--m', '9', '--n', '3', '--keys', gwKeys, '--rpc', rpc, '--receipts', gwRc, '--once', '--register', '--json']);
  await ok(['data', 'export', '--store', svcDb, '--table', 'readings', '--out', svcRows, '--json']);
  await ok(['data', 'export', '--store', gwDb, '--table', 'gw_readings', '--out', gwRows, '--json']);
  const auditArgs = ['--rows', svcRows, '--gateway-rows', gwRows, '--receipts', svcRc, '--gateway-receipts', gwRc, '--key-directory', join(svcKeys, 'directory.json'), '--chain-keys', '--genesis', genesis];

  const clean = JSON.parse((await ok(['audit', ...auditArgs, '--rpc', rpc, '--json'])).stdout) as CrossAuditJson;
  t.ok(clean.ok, 'both exports verify and agree');
  t.match(clean.tables, [{ side: 'service', table: 'readings', batches: 5 }, { side: 'gateway', table: 'gw_readings', batches: 5 }]);
  t.equal(clean.subTables.length, 5 * 4 + 5 * 3);
  t.match(clean.signatures, { checked: true, keys: 'chain', rows: 85, failures: [] });
  t.match(clean.crossCheck, { groups: 20, agree: 20, differ: 0, pending: 0 });

  // Delete one member reading of group 7 from the gateway's export.
  const lines = (await readFile(gwRows, 'utf8')).trimEnd().split('\n');
  const at = lines.findIndex((l) => (JSON.parse(l) as { groupId: number | null; kind: string }).groupId === 7);
  const victim = JSON.parse(lines[at]!) as { id: number };
  lines.splice(at, 1);
  await writeFile(gwRows, lines.join('\n') + '\n');
  const expect = (a: CrossAuditJson) => {
    t.notOk(a.ok);
    const bad = a.subTables.filter((s) => s.status !== 'OK');
    t.equal(bad.length, 1, 'one sub-table is named');
    t.match(bad[0], { side: 'gateway', reason: 'rows-differ' });
    t.ok(bad[0]!.firstId <= victim.id && victim.id <= bad[0]!.lastId, 'the one that held the deleted row');
    t.same(a.crossCheck.results.filter((g) => g.status !== 'AGREE').map((g) => [g.groupId, g.reason, g.members, g.side]), [[7, 'members-differ', 'member-dropped', 'gateway']], 'and group 7 is named');
  };
  const online = await runCli(['audit', ...auditArgs, '--rpc', rpc, '--json'], 120_000);
  t.equal(online.code, 1, 'exit code 1');
  expect(JSON.parse(online.stdout) as CrossAuditJson);

  const bundle = join(dir, 'bundle.json');
  await ok(['audit', 'bundle', '--receipts', svcRc, '--gateway-receipts', gwRc, '--rows', svcRows, '--gateway-rows', gwRows, '--rpc', rpc, '--genesis', genesis, '--out', bundle, '--json']);
  await node.stop(); // offline from here on: the same verdicts from the bundle and the genesis validators
  const human = await runCli(['audit', ...auditArgs, '--bundle', bundle], 120_000);
  t.equal(human.code, 1, 'offline: exit code 1');
  t.match(human.stdout, /TAMPERED\s+gateway gw_readings batch \d sub-table \d\/3 rows \d+\.\.\d+\s+rows-differ/);
  t.match(human.stdout, /signatures: 84 rows checked against keys from the chain/);
  t.match(human.stdout, /cross-check service readings ↔ gateway gw_readings through groupId: 20 group\(s\), 19 agree, 1 differ/);
  t.match(human.stdout, /DIFFER {4}group 7 \(aggregate\): members-differ \(member-dropped\), gateway side/);
  t.match(human.stdout, /result: TAMPERED \(1 of 35 sub-tables, 1 group\(s\) differ between gateway and service\)/);
});
