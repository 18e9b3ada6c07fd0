// LevelDB batch cost per op: the store's batch (classic-level's `_batch`) against abstract-level's
// public `batch`, which clones and re-validates every op (state/kvStore.ts explains the choice).
// Run: node --import tsx bench/kvBatch.ts [--ops 5000] [--rounds 5]
// Batches of random 24-byte keys and 60-byte values (about a state row), sync writes, into a fresh
// LevelDB under the OS temp dir (removed at the end); CPU µs per op (process.cpuUsage, which counts
// LevelDB's own threads too) and wall µs per op, alternating the two paths twice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LevelKvStore, type BatchOp } from '../state/kvStore.js';
import { num } from './lib/args.js';

const OPS = num('ops', 5000, { integer: true, min: 1 });
const ROUNDS = num('rounds', 5, { integer: true, min: 1 });

const dir = await mkdtemp(join(tmpdir(), 'iotchain-bench-kv-'));
const store = await LevelKvStore.open(dir);
try {
  const pool: BatchOp[][] = Array.from({ length: 4 * ROUNDS }, () =>
    Array.from({ length: OPS }, () => ({ type: 'put' as const, key: new Uint8Array(randomBytes(24)), value: new Uint8Array(randomBytes(60)) })),
  );
  const level = (store as unknown as { db: { batch(ops: BatchOp[], o: object): Promise<void> } }).db;
  let next = 0;
  const run = async (name: string, write: (ops: BatchOp[]) => Promise<void>) => {
    const cpu = process.cpuUsage();
    const wall = performance.now();
    for (let r = 0; r < ROUNDS; r++) await write(pool[next++]!);
    const u = process.cpuUsage(cpu);
    const n = ROUNDS * OPS;
    console.log(`${name.padEnd(34)} CPU ${((u.user + u.system) / n).toFixed(2)} µs/op, wall ${(((performance.now() - wall) * 1000) / n).toFixed(2)} µs/op`);
  };
  for (let k = 0; k < 2; k++) {
    await run('KvStore.batch (classic-level _batch)', (ops) => store.batch(ops));
    await run('abstract-level batch', (ops) => level.batch(ops, { sync: true }));
  }
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
