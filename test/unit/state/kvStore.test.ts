// LevelKvStore writes through classic-level's own batch (bypassing abstract-level's per-op
// normalization, state/kvStore.ts): it must keep the KvStore contract exactly — puts, deletes,
// overwrites within one batch in order, sync reads, ordered ranges, persistence across a reopen —
// and agree with MemoryKvStore on a seeded random workload. A closed store refuses writes clearly.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelKvStore, MemoryKvStore, type BatchOp, type KvStore } from '../../../state/kvStore.js';
import { InternalError } from '../../../lib/errors.js';
import { PREFIX } from '../../../state/prefixes.js';
import { prng, randInt } from '../../utils/prng.js';

const b = (...xs: number[]) => new Uint8Array(xs);
const hex = (u: Uint8Array | undefined) => (u === undefined ? 'absent' : Buffer.from(u).toString('hex'));

async function all(s: KvStore, opts = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of s.range(opts)) out.push(`${hex(k)}=${hex(v)}`);
  return out;
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-kv-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

t.test('put, delete and overwrite in one batch apply in order; reads and ranges see them; a reopen keeps them', async (t) => {
  await withDir(async (dir) => {
    const s = await LevelKvStore.open(dir);
    await s.batch([
      { type: 'put', key: b(1), value: b(0xa) },
      { type: 'put', key: b(2), value: b(0xb) },
      { type: 'put', key: b(3), value: b(0xc) },
      { type: 'put', key: b(2), value: b(0xbb) }, // overwrite within the batch: last wins
      { type: 'del', key: b(3) }, // delete what the same batch put
      { type: 'put', key: b(4), value: new Uint8Array(0) }, // an empty value is a value
    ]);
    t.equal(hex(s.get(b(1))), '0a');
    t.equal(hex(s.get(b(2))), 'bb');
    t.equal(hex(s.get(b(3))), 'absent');
    t.equal(hex(s.get(b(4))), '', 'empty value kept, not absent');
    await s.batch([]); // no-op
    // a subarray view with an offset is written as its own bytes, not its whole buffer
    const big = b(9, 9, 5, 6, 9);
    await s.batch([{ type: 'put', key: big.subarray(2, 3), value: big.subarray(3, 4) }]);
    t.equal(hex(s.get(b(5))), '06');
    t.same(await all(s), ['01=0a', '02=bb', '04=', '05=06']);
    t.same(await all(s, { gte: b(2), lt: b(5), reverse: true }), ['04=', '02=bb']);
    await s.close();
    const again = await LevelKvStore.open(dir);
    t.same(await all(again), ['01=0a', '02=bb', '04=', '05=06'], 'persisted across a reopen');
    await again.close();
  });
});

t.test('a closed store refuses a batch with a clear error and writes nothing', async (t) => {
  await withDir(async (dir) => {
    const s = await LevelKvStore.open(dir);
    await s.batch([{ type: 'put', key: b(1), value: b(1) }]);
    await s.close();
    await t.rejects(s.batch([{ type: 'put', key: b(2), value: b(2) }]), InternalError);
    await t.rejects(s.batch([{ type: 'put', key: b(2), value: b(2) }]), { message: /database is closed: cannot write/ });
    const again = await LevelKvStore.open(dir);
    t.equal(hex(again.get(b(2))), 'absent');
    t.equal(hex(again.get(b(1))), '01');
    await again.close();
  });
});

t.test('LevelKvStore and MemoryKvStore agree on a seeded random workload of batches', async (t) => {
  await withDir(async (dir) => {
    const level = await LevelKvStore.open(dir);
    const mem = new MemoryKvStore();
    const rand = prng(0x6b76);
    const key = () => Uint8Array.from({ length: 1 + randInt(rand, 3) }, () => randInt(rand, 6));
    for (let round = 0; round < 60; round++) {
      const ops: BatchOp[] = Array.from({ length: randInt(rand, 40) }, () =>
        randInt(rand, 4) === 0 ? { type: 'del', key: key() } : { type: 'put', key: key(), value: Uint8Array.from({ length: randInt(rand, 5) }, () => randInt(rand, 256)) },
      );
      await level.batch(ops);
      await mem.batch(ops);
      const probe = key();
      if (hex(level.get(probe)) !== hex(mem.get(probe))) t.fail(`round ${round}: get ${hex(probe)} differs`);
    }
    t.same(await all(level), await all(mem), 'same contents in the same order');
    t.ok((await all(mem)).length > 20, 'the workload left a non-trivial store');
    await level.close();
  });
});

t.test('row cache (state rows and tree buckets): a read after a write sees the write; repeated reads share one object; other prefixes always read LevelDB', async (t) => {
  await withDir(async (dir) => {
    const s = await LevelKvStore.open(dir);
    const row = b(PREFIX.STATE, 0, 1, 7);
    const bucket = b(PREFIX.TREE, 1, 0, 0, 0, 9);
    const block = b(PREFIX.BLOCK, 0, 0, 0, 0, 0, 0, 0, 1);
    t.equal(s.get(row), undefined, 'absent before any write (and now cached as absent)');
    await s.batch([
      { type: 'put', key: row, value: b(1) },
      { type: 'put', key: bucket, value: b(2) },
      { type: 'put', key: block, value: b(3) },
    ]);
    t.equal(hex(s.get(row)), '01', 'the cached absence was replaced by the write');
    const first = s.get(bucket);
    t.equal(s.get(bucket), first, 'a cached row is the same object on every read');
    t.not(s.get(block), s.get(block), 'a block is read from LevelDB every time (a fresh object)');
    t.equal(s.cachedRows, 2, 'only the state row and the tree bucket are cached');
    await s.batch([{ type: 'put', key: row, value: b(4) }, { type: 'del', key: bucket }]);
    t.equal(hex(s.get(row)), '04', 'an overwrite replaces the cached value');
    t.equal(s.get(bucket), undefined, 'a delete replaces it with an absence');
    await s.close();
    const again = await LevelKvStore.open(dir);
    t.equal(hex(again.get(row)), '04', 'what the cache answered is what LevelDB holds');
    t.equal(again.get(bucket), undefined);
    await again.close();
  });
});

t.test('row cache: a failed write forgets its keys, so reads go back to LevelDB', async (t) => {
  await withDir(async (dir) => {
    const s = await LevelKvStore.open(dir);
    const row = b(PREFIX.STATE, 0, 1, 8);
    await s.batch([{ type: 'put', key: row, value: b(1) }]);
    t.equal(hex(s.get(row)), '01');
    const db = (s as unknown as { db: { _batch: (...a: unknown[]) => Promise<void> } }).db;
    const real = db._batch;
    db._batch = () => Promise.reject(new Error('disk full'));
    await t.rejects(s.batch([{ type: 'put', key: row, value: b(2) }]), { message: 'disk full' });
    db._batch = real;
    t.equal(s.cachedRows, 0, 'the key of the failed write was dropped from the cache');
    t.equal(hex(s.get(row)), '01', 'LevelDB still holds the earlier value, and the read says so');
    await s.close();
  });
});

t.test('row cache on a seeded workload of reads between writes, all under cached prefixes: LevelKvStore answers as MemoryKvStore, before and after a reopen', async (t) => {
  await withDir(async (dir) => {
    let level = await LevelKvStore.open(dir);
    const mem = new MemoryKvStore();
    const rand = prng(0x7c11);
    const keys = Array.from({ length: 40 }, (_, i) => b(1 + (i % 2), i));
    let mismatches = 0;
    for (let round = 0; round < 80; round++) {
      for (const k of keys) if (randInt(rand, 3) === 0 && hex(level.get(k)) !== hex(mem.get(k))) mismatches++;
      const ops: BatchOp[] = Array.from({ length: randInt(rand, 12) }, () => {
        const key = keys[randInt(rand, keys.length)]!;
        return randInt(rand, 3) === 0 ? { type: 'del', key } : { type: 'put', key, value: b(randInt(rand, 256), round) };
      });
      await level.batch(ops);
      await mem.batch(ops);
      if (round === 40) {
        await level.close();
        level = await LevelKvStore.open(dir);
      }
    }
    for (const k of keys) if (hex(level.get(k)) !== hex(mem.get(k))) mismatches++;
    t.equal(mismatches, 0, 'every read agreed');
    t.ok(level.cachedRows > 0, 'the reads were served by the cache');
    await level.close();
  });
});
