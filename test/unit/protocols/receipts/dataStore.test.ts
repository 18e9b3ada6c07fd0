// The data stores: LevelDB (default, embedded) and PostgreSQL (needs IOTCHAIN_TEST_PG_URL, which .ci/run
// sets up; skipped with a message otherwise). Same behaviour on both: append gives increasing ids, read
// and scan return exactly what was stored, and the committed horizon never passes an id that can
// still appear (PostgreSQL: a transaction that took an id and has not committed).
import t from 'tap';
import pg from 'pg';
import { join } from 'node:path';
import { openDataStore, type DataStore } from '../../../../protocols/receipts/dataStore.js';
import { LevelDataStore } from '../../../../protocols/receipts/levelDataStore.js';
import { syntheticReading, syntheticSigners } from '../../../../protocols/receipts/ingest.js';
import { encodeRow, type Row } from '../../../../protocols/receipts/rows.js';
import { toHex } from '../../../../lib/hex.js';
import { entity, tempDir } from './fixture.js';

const PG_URL = process.env.IOTCHAIN_TEST_PG_URL;
const signers = syntheticSigners(entity('store').online, 3);
const newRows = (from: number, k: number) => Array.from({ length: k }, (_, i) => syntheticReading(signers, from + i));
const same = (a: readonly Row[], b: readonly Row[]) => a.map((r) => toHex(encodeRow(r))).join() === b.map((r) => toHex(encodeRow(r))).join();

async function behaves(t: Tap, store: DataStore, table: string): Promise<void> {
  t.equal(await store.horizon(table), 0, 'empty table: horizon 0');
  const a = await store.append(table, newRows(0, 5));
  const b = await store.append(table, newRows(5, 3));
  const ids = [...a, ...b].map((r) => r.id);
  t.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!), 'ids increase');
  t.ok(ids.every((id) => id >= 1), 'ids start at 1 or above');
  t.equal(await store.horizon(table), ids[7], 'horizon = last committed id');
  t.equal(await store.count(table), 8);
  const read = await store.read(table, 0, await store.horizon(table), 100);
  t.ok(same(read, [...a, ...b]), 'read returns the rows as stored (canonical bytes)');
  t.same((await store.read(table, ids[2]!, ids[6]!, 100)).map((r) => r.id), ids.slice(3, 7), 'afterId < id ≤ upTo');
  t.same((await store.read(table, 0, ids[7]!, 2)).map((r) => r.id), ids.slice(0, 2), 'limit');
  const scanned: Row[] = [];
  for await (const r of store.scan(table)) scanned.push(r);
  t.ok(same(scanned, [...a, ...b]), 'scan = every row in id order');
  await store.append('other.table', newRows(100, 2));
  t.equal(await store.count(table), 8, 'tables are separate');
  await t.rejects(store.append('../bad', newRows(0, 1)), /table name/);
}

type Tap = Pick<typeof t, 'equal' | 'ok' | 'same' | 'rejects' | 'pass' | 'not' | 'match'>;

t.test('LevelDB store', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const store = await openDataStore(dir);
  t.teardown(() => store.close());
  t.equal(store.kind, 'leveldb');
  await behaves(t, store, 'readings');
  await store.release();
  t.equal(await store.count('readings'), 8, 'reopens after release');
});

t.test('LevelDB: a second process-like opener waits for the directory, then gets it', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const first = new LevelDataStore(dir);
  const second = new LevelDataStore(dir, { lockTimeoutMs: 30_000 });
  t.teardown(() => first.close());
  t.teardown(() => second.close());
  await first.append('t', newRows(0, 2));
  const waiting = second.count('t');
  let settled = false;
  void waiting.then(() => (settled = true), () => (settled = true));
  await first.append('t', newRows(2, 1)); // first still holds the lock and keeps working
  t.notOk(settled, 'the second opener is still waiting for the lock');
  await first.release();
  t.equal(await waiting, 3, 'and gets it once the first releases');
  const impatient = new LevelDataStore(dir, { lockTimeoutMs: 0 });
  await t.rejects(impatient.count('t'), /cannot open the LevelDB store/, 'gives up at its timeout');
});

t.test('PostgreSQL store', { skip: PG_URL ? false : 'IOTCHAIN_TEST_PG_URL is not set (.ci/run starts a PostgreSQL server and sets it)' }, async (t) => {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  t.teardown(() => admin.end());
  const table = `store_test_${process.pid}_${Date.now()}`;
  const store = await openDataStore(PG_URL!);
  t.teardown(() => store.close());
  t.equal(store.kind, 'postgres');
  await behaves(t, store, table);

  // An INSERT that took id X and has not committed while a later one (X+1) has: max(id) alone would
  // say X+1 and the daemon would skip X forever. The horizon waits for the writer instead.
  const writer = new pg.Client({ connectionString: PG_URL });
  await writer.connect();
  t.teardown(() => writer.end());
  await writer.query('BEGIN');
  const env = (await store.read(table, 0, Number.MAX_SAFE_INTEGER, 1))[0]!;
  const slow = await writer.query<{ id: string }>(
    'INSERT INTO iotchain_rows (tbl, group_id, kind, envelope) SELECT tbl, group_id, kind, envelope FROM iotchain_rows WHERE tbl = $1 AND id = $2 RETURNING id',
    [table, env.id],
  );
  const x = Number(slow.rows[0]!.id);
  const [later] = await store.append(table, newRows(8, 1));
  t.ok(later!.id > x, 'a later id commits first');
  const naive = await admin.query<{ m: string }>('SELECT max(id) AS m FROM iotchain_rows WHERE tbl = $1', [table]);
  t.equal(Number(naive.rows[0]!.m), later!.id, 'max(id) already shows the later id…');
  t.same((await store.read(table, later!.id - 2, later!.id, 10)).map((r) => r.id).includes(x), false, '…while id X is invisible');
  let horizonValue: number | undefined;
  const horizon = store.horizon(table).then((h) => (horizonValue = h));
  for (;;) {
    const w = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE iotchain_rows%'`);
    if (w.rowCount) break;
  }
  t.equal(horizonValue, undefined, 'the horizon waits for the open writer');
  await writer.query('COMMIT');
  await horizon;
  t.equal(horizonValue, later!.id, 'then covers both');
  t.ok((await store.read(table, 0, horizonValue!, 100)).some((r) => r.id === x), 'and id X is readable below it');
  await admin.query('DELETE FROM iotchain_rows WHERE tbl = $1 OR tbl = $2', [table, 'other.table']);
});
