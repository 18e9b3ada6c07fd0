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
