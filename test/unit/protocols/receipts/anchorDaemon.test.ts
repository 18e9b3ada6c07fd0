// The anchoring daemon against a real node (in-process, RPC on a free port): batches by id up to the
// horizon, any m and n, receipts that verify, and crash safety: killed at each step of a batch and
// restarted, it neither skips rows nor anchors them twice.
import t from 'tap';
import { join } from 'node:path';
import { readdir, rm } from 'node:fs/promises';
import { toHex } from '../../../../lib/hex.js';
import { addressOf } from '../../../../crypto/keys.js';
import { buildModuleTx } from '../../../../protocols/txBuilder.js';
import { defaultModules, indexModules } from '../../../../protocols/registry.js';
import { LevelDataStore } from '../../../../protocols/receipts/levelDataStore.js';
import { ingestReadings } from '../../../../protocols/receipts/ingest.js';
import { AnchorDaemon, type AnchorFailpoint } from '../../../../protocols/receipts/anchorDaemon.js';
import { ReceiptDir } from '../../../../protocols/receipts/receiptDir.js';
import { checkReceipt, receiptMatchesRows, treeSizeOf } from '../../../../protocols/receipts/merkleReceipt.js';
import type { TableHeadJson } from '../../../../protocols/receipts/types.js';
import { entity, register, startNode, tempDir, type Teardown, type TestNode } from './fixture.js';

const svc = entity('daemon-service');

class SimulatedCrash extends Error {}

type T = Teardown & Pick<typeof t, 'same' | 'ok' | 'equal'>;

async function setup(t: T, n: TestNode) {
  const dir = await tempDir(t);
  const store = new LevelDataStore(join(dir, 'db'));
  t.teardown(() => store.close());
  const receipts = new ReceiptDir(join(dir, 'receipts'));
  const daemon = (table: string, m: number, nn: number, failpoint?: AnchorFailpoint) =>
    new AnchorDaemon({
      store, table, m, n: nn, key: svc.online, identity: svc.identity, client: n.client, receipts,
      ...(failpoint ? { failpoint: (p: AnchorFailpoint) => { if (p === failpoint) throw new SimulatedCrash(p); } } : {}),
    });
  const ingest = (table: string, count: number) => ingestReadings({ store, table, count, service: svc.online, identity: svc.identity, devices: 3 });
  const head = async (table: string) => (await n.client.query('receipts/anchorHead', { submitter: toHex(svc.identity), table })).value as TableHeadJson;
  /** Every receipt of `table` checks, matches the stored rows, and they tile ids 1..lastId. */
  const receiptsVerify = async (table: string, lastId: number) => {
    const { receipts: rs, errors } = await receipts.receipts(table);
    t.same(errors, [], 'every receipt file parses');
    let next = 1;
    for (const { receipt: r } of rs) {
      t.ok(checkReceipt(r).ok, `receipt ${r.firstId}..${r.lastId} checks`);
      t.equal(r.firstId, next, 'receipts tile the ids');
      next = r.lastId + 1;
      t.ok(receiptMatchesRows(r, await store.read(table, r.firstId - 1, r.lastId, r.rows + 1)), `rows ${r.firstId}..${r.lastId} hash to the receipt`);
    }
    t.equal(next - 1, lastId, `receipts cover 1..${lastId}`);
    return rs.length;
  };
  return { store, receipts, daemon, ingest, head, receiptsVerify };
}

t.test('daemon', async (t) => {
  const n = await startNode(t);
  await register(n, svc);

  t.test('anchors every complete batch of m rows, and only those', async (t) => {
    const s = await setup(t, n);
    await s.ingest('main', 25);
    const d = s.daemon('main', 10, 3);
    const batches = await d.runOnce();
    t.same(batches.map((b) => [b.batch, b.firstId, b.lastId, b.subTables]), [[0, 1, 10, 3], [1, 11, 20, 3]], 'two batches; 5 rows wait');
    t.equal(await s.receiptsVerify('main', 20), 6);
    t.match(await s.head('main'), { count: 2, lastId: 20 });
    t.same(await d.runOnce(), [], 'nothing more to do');
    await s.ingest('main', 5);
    t.same((await d.runOnce()).map((b) => [b.firstId, b.lastId]), [[21, 30]]);
    t.equal(await s.receiptsVerify('main', 30), 9);
  });

  t.test('any m and n (n > m: one row per sub-table)', async (t) => {
    const s = await setup(t, n);
    for (const [m, nn] of [[1, 1], [5, 1], [7, 3], [3, 8], [4, 4], [10, 4]] as const) {
      const table = `mn_${m}_${nn}`;
      await s.ingest(table, 2 * m);
      const b = await s.daemon(table, m, nn).runOnce();
      t.equal(b.length, 2, `m=${m} n=${nn}: two batches`);
      t.equal(b[0]!.subTables, treeSizeOf(m, nn), `m=${m} n=${nn}: min(m, n) sub-tables`);
      t.equal(await s.receiptsVerify(table, 2 * m), 2 * treeSizeOf(m, nn));
    }
  });

  for (const point of ['pending-saved', 'submitted', 'receipts-written'] as const) {
    t.test(`crash at ${point}, restart: nothing skipped, nothing anchored twice`, async (t) => {
      const s = await setup(t, n);
      const table = `crash_${point.replace('-', '_')}`;
      await s.ingest(table, 30);
      await t.rejects(s.daemon(table, 10, 4, point).runOnce(), { message: point }, `the first run dies at ${point}`);
      const state = await s.receipts.loadState(table);
      t.ok(state?.pending, 'a pending anchor was left behind');
      const again = await s.daemon(table, 10, 4).runOnce();
      t.same(again.map((b) => [b.batch, b.firstId, b.lastId, b.recovered]), [[0, 1, 10, true], [1, 11, 20, false], [2, 21, 30, false]], 'the restart completes the pending batch, then goes on');
      t.match(await s.head(table), { count: 3, lastId: 30 }, 'three anchors on chain, not four');
      t.equal(await s.receiptsVerify(table, 30), 12);
      t.same((await readdir(s.receipts.tableDir(table))).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
    });
  }

  t.test("crash before sending, then the key's nonce is used by another tx: rebuilt with a fresh nonce", async (t) => {
    const s = await setup(t, n);
    await s.ingest('nonce', 10);
    await t.rejects(s.daemon('nonce', 10, 2, 'pending-saved').runOnce(), { message: 'pending-saved' });
    const online = addressOf(svc.online.type, svc.online.publicKey);
    const nonce = (await n.client.getAccount(toHex(online))).nonce;
    const other = buildModuleTx({ modules: indexModules(defaultModules()), key: svc.online, chainId: n.chainId, nonce, fee: 0n, module: 'bank', method: 'transfer', args: { to: toHex(svc.identity), amount: '1' } });
    await n.client.sendTx(other.raw);
    await n.client.waitForTx(other.hash);
    const b = await s.daemon('nonce', 10, 2).runOnce();
    t.same(b.map((x) => [x.firstId, x.lastId, x.recovered]), [[1, 10, true]]);
    t.match(await s.head('nonce'), { count: 1, lastId: 10 });
    await s.receiptsVerify('nonce', 10);
  });

  t.test('refuses to run when its state and the chain disagree (lost receipts directory)', async (t) => {
    const s = await setup(t, n);
    await s.ingest('lost', 10);
    await s.daemon('lost', 5, 2).runOnce();
    await rm(s.receipts.tableDir('lost'), { recursive: true });
    await t.rejects(s.daemon('lost', 5, 2).runOnce(), { code: 'ANCHOR_STATE_DIVERGED', message: /chain holds 2 batch/ });
    t.match(await s.head('lost'), { count: 2 }, 'nothing was anchored again');
  });
});
