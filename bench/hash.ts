// SHA-256 digest forms, one core: crypto.hash's 'buffer' output (an ArrayBuffer with an off-heap
// backing store per digest, swept by the scavenger) against its 'binary' string output copied into
// a 32-byte array (crypto/hash.ts sha256 / sha256Into), and @noble/hashes, for the input sizes hashed
// per transaction (33: tree leaf of an id, 65: inner node, 150: a transfer). CPU µs per digest,
// GC included (the loop keeps no digest alive, as in a Merkle or state-tree pass), median of 5 runs.
// Run: node --single-threaded-gc --import tsx bench/hash.ts [--n 200000]
import { hash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha256, sha256Into } from '../crypto/hash.js';
import { median } from './lib/stats.js';
import { num } from './lib/args.js';

const N = num('n', 200_000, { integer: true, min: 1000 });
const out = new Uint8Array(32 * 1024);
const forms: [string, (d: Uint8Array, i: number) => unknown][] = [
  ["crypto.hash 'buffer'", (d) => hash('sha256', d, 'buffer')],
  ['sha256 (binary → Uint8Array(32))', (d) => sha256(d)],
  ['sha256Into (binary → in place)', (d, i) => sha256Into(d, out, (i & 1023) * 32)],
  ['@noble/hashes sha256', (d) => nobleSha256(d)],
];
for (const size of [33, 65, 150]) {
  const d = new Uint8Array(size).fill(7);
  for (const [name, fn] of forms) {
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      for (let i = 0; i < N / 10; i++) fn(d, i); // warm-up
      const t = process.cpuUsage();
      for (let i = 0; i < N; i++) fn(d, i);
      const u = process.cpuUsage(t);
      runs.push((u.user + u.system) / N);
    }
    console.log(`${String(size).padStart(4)} B  ${name.padEnd(36)} ${median(runs).toFixed(3)} µs`);
  }
}
