// Authenticated state structure: key updates/s in 2,000-key blocks, ours (bucket tree on LevelDB)
// against @ethereumjs/mpt in batch mode (in-memory MapDB: its best case), plus our proof
// generation and verification rates. Prints figures; never asserts on time.
//
//   node --import tsx bench/stateTree.ts [--runs 3] [--prefill 100000] [--blocks 50] [--block 2000] [--bits 16]
//
// Each block is half updates of existing keys, half inserts; keys 32–40 random bytes, values 100
// random bytes, from a seeded generator (the same workload for both structures and every run).
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { createMPT } from '@ethereumjs/mpt';
import { AuthTree, verifyProof, stateProofCodec, type StateChange, type StateProof } from '../state/authTree.js';
import { LevelKvStore } from '../state/kvStore.js';
import { encode } from '../lib/encoding.js';
import { num } from './lib/args.js';


const RUNS = num('runs', 3, { integer: true, min: 1 });
const PREFILL = num('prefill', 100_000, { integer: true, min: 1 });
const BLOCKS = num('blocks', 50, { integer: true, min: 1 });
const BLOCK = num('block', 2000, { integer: true, min: 1 });
const BITS = num('bits', 16, { integer: true, min: 1 });
const PROOFS = 10_000;

const tempDirs = new Set<string>();
function cleanupSync(): void {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanupSync();
    process.exit(130);
  });
}
/** Lets the event loop run (signals, timers) between blocks: the MPT's MapDB never yields by itself. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wall-clock and process CPU time (user + system, all threads: GC, LevelDB) of a phase. */
class Clock {
  wallMs = 0;
  cpuMs = 0;
  private w = 0;
  private c: NodeJS.CpuUsage = { user: 0, system: 0 };
  start(): void {
    this.w = performance.now();
    this.c = process.cpuUsage();
  }
  stop(): void {
    this.wallMs += performance.now() - this.w;
    const d = process.cpuUsage(this.c);
    this.cpuMs += (d.user + d.system) / 1000;
  }
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
function randBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const r = next();
    out[i] = r;
    if (i + 1 < n) out[i + 1] = r >>> 8;
    if (i + 2 < n) out[i + 2] = r >>> 16;
    if (i + 3 < n) out[i + 3] = r >>> 24;
  }
  return out;
}

interface Workload {
  prefill: StateChange[][];
  blocks: StateChange[][];
  present: Uint8Array[];
  absent: Uint8Array[];
}

function makeWorkload(seed: number): Workload {
  const next = prng(seed);
  const key = (): Uint8Array => randBytes(next, 32 + (next() % 9));
  const value = (): Uint8Array => randBytes(next, 100);
  const keys: Uint8Array[] = [];
  const prefill: StateChange[][] = [];
  for (let done = 0; done < PREFILL; ) {
    const n = Math.min(10_000, PREFILL - done);
    const block: StateChange[] = [];
    for (let i = 0; i < n; i++) {
      const k = key();
      keys.push(k);
      block.push({ key: k, value: value() });
    }
    prefill.push(block);
    done += n;
  }
  const blocks: StateChange[][] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const block: StateChange[] = [];
    for (let i = 0; i < BLOCK; i++) {
      if (i % 2 === 0) {
        block.push({ key: keys[next() % keys.length]!, value: value() });
      } else {
        const k = key();
        keys.push(k);
        block.push({ key: k, value: value() });
      }
    }
    blocks.push(block);
  }
  const present = Array.from({ length: PROOFS }, () => keys[next() % keys.length]!);
  const absent = Array.from({ length: PROOFS }, () => key());
  return { prefill, blocks, present, absent };
}

interface OursResult {
  updatesPerSec: number; // stage + LevelDB batch (sync) + apply, wall clock
  updatesPerCpuSec: number; // the same per second of process CPU time
  stagePerSec: number; // stage only (hashing + bucket reads), wall clock
  writeMsPerBlock: number; // store.batch(staged.ops) with sync, per block
  provePerSec: number;
  verifyPerSec: number;
  proofBytes: number;
  openMs: number;
}

async function runOurs(w: Workload): Promise<OursResult> {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-bench-tree-'));
  tempDirs.add(dir);
  try {
    let store = await LevelKvStore.open(dir);
    let tree = await AuthTree.open(store, { bucketBits: BITS });
    for (const block of w.prefill) {
      const s = await tree.stage(block);
      await store.batch(s.ops);
      s.apply();
    }
    const total = new Clock();
    let stageMs = 0;
    let writeMs = 0;
    for (const block of w.blocks) {
      await yieldToLoop();
      total.start();
      const a = performance.now();
      const s = await tree.stage(block);
      const b = performance.now();
      stageMs += b - a;
      await store.batch(s.ops);
      writeMs += performance.now() - b;
      s.apply();
      total.stop();
    }
    const totalMs = total.wallMs;
    const updates = BLOCKS * BLOCK;

    const root = tree.root;
    const proofs: StateProof[] = [];
    const p0 = performance.now();
    for (const k of w.present) proofs.push(await tree.prove(k));
    for (const k of w.absent) proofs.push(await tree.prove(k));
    const proveMs = performance.now() - p0;
    let proofBytes = 0;
    for (const p of proofs) proofBytes += encode(stateProofCodec, p).length;
    // inclusion of present keys with their latest value, non-inclusion of absent keys
    const keys = [...w.present, ...w.absent];
    const expected: (Uint8Array | undefined)[] = keys.map(() => undefined);
    const latest = new Map<string, Uint8Array>();
    for (const block of [...w.prefill, ...w.blocks]) for (const c of block) if (c.value) latest.set(Buffer.from(c.key).toString('hex'), c.value);
    for (let i = 0; i < w.present.length; i++) expected[i] = latest.get(Buffer.from(keys[i]!).toString('hex'));
    const v0 = performance.now();
    let ok = 0;
    for (let i = 0; i < proofs.length; i++) if (verifyProof(root, keys[i]!, expected[i], proofs[i]!)) ok++;
    const verifyMs = performance.now() - v0;
    if (ok !== proofs.length) throw new Error(`only ${ok}/${proofs.length} proofs verified`);

    await store.close();
    const o0 = performance.now();
    store = await LevelKvStore.open(dir);
    tree = await AuthTree.open(store);
    const openMs = performance.now() - o0;
    if (Buffer.compare(tree.root, root) !== 0) throw new Error('root changed across restart');
    await store.close();
    return {
      updatesPerSec: updates / (totalMs / 1000),
      updatesPerCpuSec: updates / (total.cpuMs / 1000),
      stagePerSec: updates / (stageMs / 1000),
      writeMsPerBlock: writeMs / BLOCKS,
      provePerSec: proofs.length / (proveMs / 1000),
      verifyPerSec: proofs.length / (verifyMs / 1000),
      proofBytes: proofBytes / proofs.length,
      openMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

async function runMpt(w: Workload): Promise<{ perSec: number; perCpuSec: number }> {
  // in-memory MapDB (the default), secure trie (keys hashed with keccak256, as Ethereum's state trie)
  const mpt = await createMPT({ useKeyHashing: true });
  for (const block of w.prefill) {
    await yieldToLoop();
    await mpt.batch(block.map((c) => ({ type: 'put' as const, key: c.key, value: c.value! })));
  }
  const clock = new Clock();
  for (const block of w.blocks) {
    await yieldToLoop();
    clock.start();
    await mpt.batch(block.map((c) => ({ type: 'put' as const, key: c.key, value: c.value! })));
    mpt.root();
    clock.stop();
  }
  const n = BLOCKS * BLOCK;
  return { perSec: n / (clock.wallMs / 1000), perCpuSec: n / (clock.cpuMs / 1000) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  console.log(`state tree bench: node ${process.version}, ${cpus().length} cpu(s) (${cpus()[0]?.model ?? '?'})`);
  console.log(`workload: prefill ${fmt(PREFILL)} keys, then ${BLOCKS} blocks × ${fmt(BLOCK)} changes (½ updates, ½ inserts), keys 32–40 B, values 100 B; ${RUNS} runs`);
  const w = makeWorkload(0x5eed);
  const ours: OursResult[] = [];
  const mpt: { perSec: number; perCpuSec: number }[] = [];
  for (let r = 1; r <= RUNS; r++) {
    const o = await runOurs(w);
    ours.push(o);
    console.log(
      `run ${r} bucket tree (LevelDB, ${BITS} bits): ${fmt(o.updatesPerSec)} updates/s incl. sync write (${fmt(o.updatesPerCpuSec)}/CPU-s; stage only ${fmt(o.stagePerSec)}/s, write ${o.writeMsPerBlock.toFixed(1)} ms/block); ` +
        `prove ${fmt(o.provePerSec)}/s, verify ${fmt(o.verifyPerSec)}/s, proof ${Math.round(o.proofBytes)} B avg; reopen ${Math.round(o.openMs)} ms`,
    );
    const m = await runMpt(w);
    mpt.push(m);
    console.log(`run ${r} @ethereumjs/mpt batch (in-memory MapDB): ${fmt(m.perSec)} updates/s (${fmt(m.perCpuSec)}/CPU-s)`);
  }
  const oursMed = median(ours.map((o) => o.updatesPerSec));
  const mptMed = median(mpt.map((m) => m.perSec));
  const oursCpu = median(ours.map((o) => o.updatesPerCpuSec));
  const mptCpu = median(mpt.map((m) => m.perCpuSec));
  console.log(`--- medians of ${RUNS} runs (wall clock; per second of process CPU time in brackets) ---`);
  console.log(`bucket tree, LevelDB, stage+write+apply: ${fmt(oursMed)} key updates/s (${fmt(oursCpu)}/CPU-s)`);
  console.log(`bucket tree, stage only:                 ${fmt(median(ours.map((o) => o.stagePerSec)))} key updates/s (LevelDB sync write ${median(ours.map((o) => o.writeMsPerBlock)).toFixed(1)} ms/block)`);
  console.log(`@ethereumjs/mpt batch, in-memory MapDB:   ${fmt(mptMed)} key updates/s (${fmt(mptCpu)}/CPU-s)`);
  console.log(`ratio (bucket tree / mpt):               ${(oursMed / mptMed).toFixed(1)}× (${(oursCpu / mptCpu).toFixed(1)}× per CPU-s)`);
  console.log(`proof generation: ${fmt(median(ours.map((o) => o.provePerSec)))}/s; verification: ${fmt(median(ours.map((o) => o.verifyPerSec)))}/s; ` +
    `avg proof ${Math.round(median(ours.map((o) => o.proofBytes)))} B; reopen ${Math.round(median(ours.map((o) => o.openMs)))} ms`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanupSync);
