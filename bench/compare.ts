// Compares two versions of the code on the PBFT benchmark by running them AT THE SAME TIME: the
// VM's speed drifts by ±20 % from one minute to the next (BENCHMARKS.md, session 4), so runs one
// after the other cannot resolve a 5 % change; two clusters side by side see the same machine.
// Each round starts bench/pbft.ts in both trees together (N validators each, so 2N processes share
// the cores), the start order alternating between rounds; the figure compared is validator CPU ms
// per committed tx (each bench counts its own validators), reported per round and as the median of
// the per-round ratios head ÷ base.
// Run: node --import tsx bench/compare.ts --base REV [--head REV] [--rounds 4] [--validators 4]
//        [--curve p256] [--seconds 25] [--warmup 10] [--window 4]
//        [--base-node-flags "…"] [--head-node-flags "…"] [--base-node PATH] [--head-node PATH]
// Without --head the head is this working tree, uncommitted changes included. A revision is checked
// out in a temporary git worktree (removed at the end) that borrows this tree's node_modules and
// builds its own native addon (native/build.mjs) and compiled JavaScript (bin/compile.mjs) where it
// has them.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { arg, num, finishArgs } from './lib/args.js';
import { median } from './lib/stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const BASE = arg('base');
const HEAD = arg('head');
const ROUNDS = num('rounds', 4, { integer: true, min: 1 });
const VALIDATORS = num('validators', 4, { integer: true, min: 2 });
const CURVE = arg('curve') ?? 'p256';
const SECONDS = num('seconds', 25, { min: 1 });
const WARMUP = num('warmup', 10, { min: 0 });
const WINDOW = num('window', 4, { integer: true, min: 1 });
/** Extra Node.js flags for one side's validators (bench/pbft.ts --node-flags): compares a flag on the same code. */
const NODE_FLAGS = { base: arg('base-node-flags') ?? '', head: arg('head-node-flags') ?? '' };
/** The Node.js binary one side's bench and validators run on (default: this one): compares Node.js versions. */
const NODE_BIN = { base: arg('base-node') ?? process.execPath, head: arg('head-node') ?? process.execPath };
finishArgs(import.meta.url);
if (BASE === undefined) throw new Error('--base REV is required (a git revision to compare against)');

interface Side {
  name: 'base' | 'head';
  dir: string;
  /** A worktree this script made (removed at the end). */
  worktree: boolean;
}

interface Figures {
  cpuMsPerTx: number;
  txPerS: number;
  p50: number;
}

const children = new Set<ChildProcess>();
/** SIGTERM (each bench/pbft.ts then stops its own validators), SIGKILL after 20 s; resolves when all have exited. */
const stopChildren = (): Promise<void> =>
  Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
          c.once('exit', () => (clearTimeout(timer), res()));
          c.kill('SIGTERM');
        }),
    ),
  ).then(() => undefined);
process.once('SIGINT', () => {
  process.exitCode = 130;
  void stopChildren();
});

async function checkout(name: Side['name'], rev: string, tmp: string): Promise<Side> {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(tmp, name);
  execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: ROOT, stdio: 'ignore' });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // the revision's own native addon (native/build/ is not in git): without it the side would verify
  // P-256 through node:crypto and the comparison would measure that instead
  if (existsSync(join(dir, 'native', 'build.mjs'))) {
    const out = execFileSync(process.execPath, [join(dir, 'native', 'build.mjs')], { cwd: dir, encoding: 'utf8' }).trim();
    console.log(`${name}: ${out}`);
  }
  // and its compiled JavaScript (bin/compile.mjs, where the revision has it), built before its validators start
  if (existsSync(join(dir, 'bin', 'compile.mjs'))) {
    const out = execFileSync(process.execPath, [join(dir, 'bin', 'compile.mjs')], { cwd: dir, encoding: 'utf8' }).trim();
    console.log(`${name}: ${out.split('\n').join('; ')}`);
  }
  console.log(`${name}: ${rev} (${sha.slice(0, 10)}) in ${dir}`);
  return { name, dir, worktree: true };
}

function runBench(side: Side, json: string): Promise<void> {
  const args = ['--import', 'tsx', 'bench/pbft.ts', '--validators', String(VALIDATORS), '--curve', CURVE, '--seconds', String(SECONDS), '--warmup', String(WARMUP), '--window', String(WINDOW), '--block-cost-txs', '0', '--json', json];
  if (NODE_FLAGS[side.name] !== '') args.push('--node-flags', NODE_FLAGS[side.name]);
  return new Promise((res, rej) => {
    const c = spawn(NODE_BIN[side.name], args, { cwd: side.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(c);
    let err = '';
    c.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    c.once('error', rej);
    c.once('exit', (code) => {
      children.delete(c);
      if (code === 0) res();
      else rej(new Error(`${side.name}: bench/pbft.ts exited with ${code}: ${err}`));
    });
  });
}

async function figures(json: string): Promise<Figures> {
  const r = JSON.parse(await readFile(json, 'utf8')) as { curves: { runs: { cpuMsPerTx: number; txPerS: number; latencyMs: { p50: number }; error?: string }[] }[] };
  const run = r.curves[0]?.runs[0];
  if (run === undefined || run.error !== undefined) throw new Error(`no result in ${json}${run?.error ? `: ${run.error}` : ''}`);
  return { cpuMsPerTx: run.cpuMsPerTx, txPerS: run.txPerS, p50: run.latencyMs.p50 };
}

const tmp = await mkdtemp(join(tmpdir(), 'iotchain-compare-'));
const sides: Side[] = [];
try {
  sides.push(await checkout('base', BASE, tmp));
  sides.push(HEAD === undefined ? { name: 'head', dir: ROOT, worktree: false } : await checkout('head', HEAD, tmp));
  if (HEAD === undefined) console.log(`head: this working tree (${ROOT})`);
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? [sides[0]!, sides[1]!] : [sides[1]!, sides[0]!];
    const files = order.map((s) => join(tmp, `${s.name}-${round}.json`));
    await Promise.all(order.map((s, i) => runBench(s, files[i]!)));
    const [a, b] = await Promise.all(files.map(figures));
    const f = order[0]!.name === 'base' ? { base: a!, head: b! } : { base: b!, head: a! };
    ratios.push(f.head.cpuMsPerTx / f.base.cpuMsPerTx);
    const show = (x: Figures) => `${x.cpuMsPerTx} CPU ms/tx, ${x.txPerS} tx/s, p50 ${x.p50} ms`;
    console.log(`round ${round} (${order[0]!.name} started first): base ${show(f.base)}; head ${show(f.head)}; head/base ${ratios.at(-1)!.toFixed(3)}`);
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  console.log(`head/base validator CPU per tx: median ${median(ratios).toFixed(3)} over ${ROUNDS} round(s), range ${sorted[0]!.toFixed(3)}–${sorted.at(-1)!.toFixed(3)}`);
} finally {
  await stopChildren(); // before the worktrees go: a failed side must not leave the other running
  for (const s of sides) if (s.worktree) execFileSync('git', ['worktree', 'remove', '--force', s.dir], { cwd: ROOT, stdio: 'ignore' });
  await rm(tmp, { recursive: true, force: true });
}
