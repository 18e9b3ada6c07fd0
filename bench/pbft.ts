// PBFT throughput and latency with N validator OS processes on loopback (issue 3, item 11).
// Run: node --import tsx bench/pbft.ts [--validators 4,7,10,16] [--curve secp256k1|p256|secp256k1,p256]
//        [--seconds 25] [--warmup 10] [--senders 256] [--window 1] [--batch 100] [--submit ws|http] [--txs N]
//        [--idle 4] [--block-delay-ms 20] [--block-delay-max-ms 250] [--timeout-base-ms 3000] [--block-cost-txs 1000]
//        [--max-block-txs N] [--repeat 1] [--json FILE] [--logs DIR] [--log-level info|debug] [--profile] [--node-flags "…"]
// Per curve: (1) the bound — crypto/sign.ts verify/s on one core, on pre-made signatures (best of
// three 1 s windows); (2) where a block's CPU time goes, in-process (bench/lib/blockCost.ts); (3) per
// validator count N: start N `iotchain start` processes (temp homes, removed at the end), wait for
// blocks, run closed-loop clients (bench/lib/load.ts) for a warm-up (excluded) then a measurement
// window, and report
//   committed tx/s      txs in the blocks whose header time falls in the window ÷ window length
//   latency p50/90/99   submit (the batch sent) → the tx id in validator 0's newBlock stream,
//                       for the txs whose commit was seen in the window
//   per block           txs, interval between header times, header time → commit seen at
//                       validator 0 (execute, PrePrepare, re-execute, Prepare, Commit, LevelDB),
//                       commit seen → next header time (block delay, waiting for txs); the same
//                       header → commit for the empty blocks of an idle phase before the load (the
//                       consensus round alone), and (loaded − idle) ÷ txs: the ms each tx adds to a round
//   view changes        distinct (height, view) entered since the load started (and within the
//                       window), from the validators' 'view change' log lines
//   CPU                 cores used by the validators, by this client, and by other work (/proc)
//   --profile           validators run under V8's sampling profiler; their CPU in the window is
//                       folded by subsystem (bench/lib/liveProfile.ts); with --logs the profiles are kept
// Every process started is stopped, also on error and on Ctrl-C (bench/lib/cluster.ts).
import '../lib/polyfill.js';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { KeyType, keyTypeFromName, CURVE_NAMES, toChecksumAddress } from '../crypto/keys.js';
import { RpcClient } from '../rpc/client.js';
import { addr } from '../test/utils/chain.js';
import { startCluster, type Cluster } from './lib/cluster.js';
import { ClosedLoop, now } from './lib/load.js';
import { presignLoad, senderKey, type LoadSpec, type PresignedTx } from './lib/presign.js';
import { measureVerifyRate } from './lib/verifyRate.js';
import { measureBlockCost, type BlockCost } from './lib/blockCost.js';
import { cpuBetween, cpuSnapshot, type CpuUse } from './lib/cpu.js';
import { median, percentile, sum, round } from './lib/stats.js';
import { foldProfiles, monotonicUs, type SubsystemShare } from './lib/liveProfile.js';
import { arg, num, flag, finishArgs } from './lib/args.js';

const VALIDATORS = (arg('validators') ?? '4,7,10,16').split(',').map(Number);
const CURVES: KeyType[] = (arg('curve') ?? 'secp256k1,p256').split(',').map(keyTypeFromName);
const SECONDS = num('seconds', 25);
const WARMUP = num('warmup', 10);
const IDLE = num('idle', 4);
const REPEAT = num('repeat', 1);
const SENDERS = num('senders', 256);
const WINDOW = num('window', 1);
const BATCH = num('batch', 100);
const SUBMIT_ARG = arg('submit') ?? 'ws';
if (SUBMIT_ARG !== 'ws' && SUBMIT_ARG !== 'http') throw new Error('--submit expects ws or http');
const SUBMIT: 'ws' | 'http' = SUBMIT_ARG;
const BLOCK_COST_TXS = num('block-cost-txs', 1000);
const WORKERS = num('workers', 2);
const CONSENSUS = {
  ...(arg('block-delay-ms') !== undefined ? { blockDelayMs: num('block-delay-ms', 20) } : {}),
  ...(arg('block-delay-max-ms') !== undefined ? { blockDelayMaxMs: num('block-delay-max-ms', 250) } : {}),
  ...(arg('timeout-base-ms') !== undefined ? { timeoutBaseMs: num('timeout-base-ms', 3000) } : {}),
};
/** Genesis maxBlockTxs for the run (default: the chain's): compares block sizes under one load. */
const MAX_BLOCK_TXS = arg('max-block-txs') !== undefined ? num('max-block-txs', 5000, { integer: true, min: 1 }) : undefined;
const JSON_OUT = arg('json');
const LOGS_DIR = arg('logs');
const PROFILE = flag('profile');
/** Extra Node.js flags for the validators, space-separated (e.g. --node-flags "--max-semi-space-size=64"). */
const NODE_FLAGS = (arg('node-flags') ?? '').split(' ').filter((f) => f !== '');
const LOG_LEVELS = ['info', 'debug', 'warn'] as const;
const LOG_LEVEL = LOG_LEVELS.find((l) => l === (arg('log-level') ?? 'info'));
if (LOG_LEVEL === undefined) throw new Error(`--log-level expects one of ${LOG_LEVELS.join(', ')}`);
finishArgs(import.meta.url, ['txs']);

const CHAIN_ID = 'bench-pbft';
/** Issue 3 targets at 4 validators. */
const TARGET_TPS: Record<KeyType, number> = { [KeyType.secp256k1]: 750, [KeyType.p256]: 3000 };
const TARGET_P50_MS = 300;
for (const n of VALIDATORS) if (!Number.isInteger(n) || n < 2 || n > 64) throw new Error(`--validators: ${n} is not 2..64`);

/**
 * Default budget of presigned txs per curve: 1.2 × what 3,000 tx/s (the higher target; secp256k1
 * can pass its own with libsecp256k1) needs over warm-up + window. A run that exhausts it says so.
 */
const txBudget = (type: KeyType): number => num('txs', Math.ceil(1.2 * Math.max(3000, TARGET_TPS[type]) * (WARMUP + SECONDS)));

interface RunResult {
  curve: string;
  validators: number;
  seconds: number;
  txPerS: number;
  clientCommitsPerS: number;
  latencyMs: { p50: number; p90: number; p99: number; n: number };
  blocks: number;
  perBlock: {
    txsMedian: number;
    txsMax: number;
    intervalMsMedian: number;
    intervalMsP90: number;
    headerToCommitMsMedian: number;
    commitToNextHeaderMsMedian: number;
    emptyBlocks: number;
    /** header → commit of the empty blocks before the load: the consensus round without execution. */
    idleHeaderToCommitMsMedian: number;
    idleBlocks: number;
    /** (loaded header → commit median − idle one) ÷ median txs: critical-path ms each tx adds to a round. */
    roundMsPerTx: number;
  };
  /** 'view change' log lines during the run; `events` counts distinct (height, view) pairs entered. */
  viewChanges: { lines: number; events: number; eventsInWindow: number; byNode: number[]; maxView: number; heights: number[] };
  warnings: Record<string, number>;
  cpu: { validators: number; perValidatorMedian: number; client: number; others: number | undefined; machineBusy: number | undefined };
  /** 1-minute load average of the machine at the end of the window. */
  loadAvg1m: number;
  boundTxPerS: number;
  percentOfBound: number;
  /** With --profile: validators' CPU in the window by subsystem (V8 sampling profiles, bench/lib/liveProfile.ts). */
  validatorProfile?: SubsystemShare[];
  /** Validator CPU milliseconds per committed tx (all validators together) — robust to the machine's other load. */
  cpuMsPerTx: number;
  /** 2 cores ÷ cpuMsPerTx: what the validators would commit if they had the 2 cores to themselves (CPU-bound). */
  txPerSOnTwoFreeCores: number;
  load: { senders: number; window: number; batch: number; submitted: number; requests: number; errors: Record<string, number>; resubmits: number; exhaustedSenders: number };
  error?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)); // a measurement window, not a test wait

async function waitForBlocks(c: Cluster, height: number, timeoutMs: number): Promise<void> {
  const clients = c.rpcUrls.map((u) => new RpcClient(u, { timeoutMs: 5000 }));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const hs = await Promise.all(clients.map((r) => r.status().then((s) => s.height, () => -1)));
      // validator 0 (whose blocks are watched) and a quorum; a starved node may not answer RPC in time
      if (hs[0]! >= height && hs.filter((h) => h >= height).length >= Math.floor((2 * hs.length) / 3) + 1) return;
      if (!c.allRunning()) throw new Error('a validator exited while starting');
      if (Date.now() > deadline) throw new Error(`validators did not reach height ${height} within ${timeoutMs} ms (heights ${hs.join(',')})`);
      await sleep(250);
    }
  } finally {
    await Promise.all(clients.map((r) => r.close()));
  }
}

async function runOne(type: KeyType, n: number, rep: number, txs: PresignedTx[][], verifyPerS: number): Promise<RunResult> {
  const curve = CURVE_NAMES[type];
  const fund = txs.map((_, i) => `${toChecksumAddress(addr(senderKey({ label: `pbft-${curve}`, type }, i)))}=${10n ** 24n}`);
  const cluster = await startCluster({ validators: n, chainId: CHAIN_ID, fund, consensus: CONSENSUS, logLevel: LOG_LEVEL, startTimeoutMs: 240_000, nodeFlags: NODE_FLAGS, ...(MAX_BLOCK_TXS !== undefined ? { genesisParams: { maxBlockTxs: MAX_BLOCK_TXS } } : {}), ...(PROFILE ? { cpuProfile: { intervalUs: 1000 } } : {}) });
  let load: ClosedLoop | undefined;
  try {
    await waitForBlocks(cluster, 2, 60_000 + 15_000 * n); // the first heights can need view changes while peers connect
    load = new ClosedLoop({ endpoints: cluster.rpcUrls, watch: cluster.rpcUrls[0]!, txs, window: WINDOW, batch: BATCH, submit: SUBMIT });
    await load.watchBlocks();
    await sleep(IDLE * 1000);
    const started = now();
    await load.start();
    await sleep(WARMUP * 1000);
    const t0 = now();
    const m0 = monotonicUs();
    const c0 = cpuSnapshot(cluster.pids);
    await sleep(SECONDS * 1000);
    const t1 = now();
    const m1 = monotonicUs();
    const c1 = cpuSnapshot(cluster.pids);
    const exhaustedSenders = load.exhausted;
    await load.stop();
    const running = cluster.allRunning();
    await cluster.stopProcesses(); // the profiles are written at exit
    const prof = PROFILE ? await foldProfiles(cluster.profileDir, m0, m1).catch(() => undefined) : undefined;
    const logs = cluster.pids.map((_, i) => cluster.logs(i)).flat();
    const runLogs = logs.filter((l) => l.time >= started - 1000);
    const vc = runLogs.filter((l) => l.msg === 'view change');
    const warnings: Record<string, number> = {};
    for (const l of runLogs) if (l.level >= 40) warnings[l.msg] = (warnings[l.msg] ?? 0) + 1;
    const r = summarize({ type, n, load, started, t0, t1, cpu: cpuBetween(c0, c1), verifyPerS, vc, warnings, exhaustedSenders, running });
    if (prof) r.validatorProfile = prof.lines;
    return r;
  } finally {
    if (LOGS_DIR) {
      await mkdir(LOGS_DIR, { recursive: true });
      for (let i = 0; i < n; i++) await writeFile(join(LOGS_DIR, `${curve}-n${n}-r${rep}-node${i}.log`), cluster.output(i));
      if (PROFILE) await cp(cluster.profileDir, join(LOGS_DIR, `${curve}-n${n}-r${rep}-profiles`), { recursive: true }).catch(() => undefined);
    }
    await load?.stop();
    await cluster.stop();
  }
}

function summarize(r: {
  type: KeyType;
  n: number;
  load: ClosedLoop;
  started: number;
  t0: number;
  t1: number;
  cpu: CpuUse;
  verifyPerS: number;
  vc: { node: number; time: number; fields: Record<string, unknown> }[];
  warnings: Record<string, number>;
  exhaustedSenders: number;
  running: boolean;
}): RunResult {
  const secs = (r.t1 - r.t0) / 1000;
  const all = [...r.load.blocks].sort((a, b) => a.height - b.height);
  const inWin = all.filter((b) => b.time >= r.t0 && b.time < r.t1);
  const txs = sum(inWin.map((b) => b.txs));
  const lat = r.load.commits.filter((c) => c.seenAt >= r.t0 && c.seenAt < r.t1).map((c) => c.seenAt - c.sentAt);
  const byHeight = new Map(all.map((b) => [b.height, b]));
  const interval: number[] = [];
  const headerToCommit: number[] = [];
  const commitToNext: number[] = [];
  for (const b of inWin) {
    const prev = byHeight.get(b.height - 1);
    const next = byHeight.get(b.height + 1);
    if (prev) interval.push(b.time - prev.time);
    headerToCommit.push(b.seenAt - b.time);
    if (next) commitToNext.push(next.time - b.seenAt);
  }
  const idle = all.filter((b) => b.seenAt < r.started && b.txs === 0).map((b) => b.seenAt - b.time);
  const byNode = Array.from({ length: r.n }, (_, i) => r.vc.filter((v) => v.node === i).length);
  const views = r.vc.map((v) => (typeof v.fields.view === 'number' ? v.fields.view : 0));
  const heights = [...new Set(r.vc.map((v) => (typeof v.fields.height === 'number' ? v.fields.height : -1)))].sort((a, b) => a - b);
  const bound = (2 * r.verifyPerS) / r.n;
  const txPerS = txs / secs;
  return {
    curve: CURVE_NAMES[r.type],
    validators: r.n,
    seconds: round(secs),
    txPerS: round(txPerS),
    clientCommitsPerS: round(lat.length / secs),
    latencyMs: { p50: round(percentile(lat, 50)), p90: round(percentile(lat, 90)), p99: round(percentile(lat, 99)), n: lat.length },
    blocks: inWin.length,
    perBlock: {
      txsMedian: median(inWin.map((b) => b.txs)),
      txsMax: Math.max(0, ...inWin.map((b) => b.txs)),
      intervalMsMedian: round(median(interval)),
      intervalMsP90: round(percentile(interval, 90)),
      headerToCommitMsMedian: round(median(headerToCommit)),
      commitToNextHeaderMsMedian: round(median(commitToNext)),
      emptyBlocks: inWin.filter((b) => b.txs === 0).length,
      idleHeaderToCommitMsMedian: round(median(idle)),
      idleBlocks: idle.length,
      roundMsPerTx: round((median(headerToCommit) - median(idle)) / median(inWin.map((b) => b.txs))),
    },
    viewChanges: {
      lines: r.vc.length,
      events: new Set(r.vc.map((v) => `${String(v.fields.height)}/${String(v.fields.view)}`)).size,
      eventsInWindow: new Set(r.vc.filter((v) => v.time >= r.t0 && v.time < r.t1).map((v) => `${String(v.fields.height)}/${String(v.fields.view)}`)).size,
      byNode, maxView: Math.max(0, ...views), heights: heights.slice(0, 20) },
    warnings: r.warnings,
    cpu: {
      validators: round(r.cpu.procs),
      perValidatorMedian: round(median(r.cpu.perProc.filter((x) => !Number.isNaN(x)))),
      client: round(r.cpu.self),
      others: r.cpu.others === undefined ? undefined : round(r.cpu.others),
      machineBusy: r.cpu.machineBusy === undefined ? undefined : round(r.cpu.machineBusy),
    },
    loadAvg1m: round(loadavg()[0]!),
    cpuMsPerTx: round((1000 * r.cpu.procs) / txPerS),
    txPerSOnTwoFreeCores: round((2 * txPerS) / r.cpu.procs),
    boundTxPerS: round(bound),
    percentOfBound: round((100 * txPerS) / bound),
    load: {
      senders: SENDERS,
      window: WINDOW,
      batch: BATCH,
      submitted: r.load.submitted,
      requests: r.load.requests,
      errors: Object.fromEntries(r.load.errors),
      resubmits: r.load.resubmits,
      exhaustedSenders: r.exhaustedSenders,
    },
    ...(r.running ? {} : { error: 'a validator process exited during the run' }),
  };
}

function printRun(r: RunResult): void {
  const l = r.latencyMs;
  const b = r.perBlock;
  console.log(
    `  ${r.curve} N=${r.validators}: ${r.txPerS} tx/s (${r.percentOfBound}% of 2×verify/s÷N = ${r.boundTxPerS}); latency p50 ${l.p50} p90 ${l.p90} p99 ${l.p99} ms (${l.n} txs); ` +
      `${r.blocks} blocks, median ${b.txsMedian} txs, interval ${b.intervalMsMedian} ms (p90 ${b.intervalMsP90}), header→commit ${b.headerToCommitMsMedian} ms (idle ${b.idleHeaderToCommitMsMedian}, +${b.roundMsPerTx} ms/tx), commit→next ${b.commitToNextHeaderMsMedian} ms; ` +
      `view changes ${r.viewChanges.events} since load start, ${r.viewChanges.eventsInWindow} in the window (${r.viewChanges.lines} log lines); ${r.cpuMsPerTx} validator-CPU ms/tx (→ ${r.txPerSOnTwoFreeCores} tx/s on 2 free cores); CPU validators ${r.cpu.validators} cores, client ${r.cpu.client}, others ${r.cpu.others ?? '?'}` +
      (Object.keys(r.load.errors).length ? `; refusals ${JSON.stringify(r.load.errors)}` : '') +
      (r.load.exhaustedSenders ? `; ${r.load.exhaustedSenders} senders ran out of presigned txs (raise --txs)` : '') +
      (r.error ? `; ERROR ${r.error}` : ''),
  );
  if (r.validatorProfile) console.log(`    validators' CPU by subsystem: ${r.validatorProfile.slice(0, 10).map((l) => `${l.what} ${l.share}%`).join('; ')}`);
}

/** Medians over the repetitions of one (curve, N): the figures BENCHMARKS.md reports. */
interface MedianRow {
  curve: string;
  validators: number;
  runs: number;
  txPerS: number;
  p50: number;
  p90: number;
  p99: number;
  txsPerBlock: number;
  blockIntervalMs: number;
  headerToCommitMs: number;
  idleHeaderToCommitMs: number;
  commitToNextHeaderMs: number;
  viewChangeEvents: number[];
  validatorCores: number;
  otherCores: number;
  cpuMsPerTx: number;
  txPerSOnTwoFreeCores: number;
  boundTxPerS: number;
  validatorProfile?: { what: string; share: number }[];
}

function medianRow(runs: RunResult[]): MedianRow {
  const m = (f: (r: RunResult) => number | undefined) => round(median(runs.map(f).filter((x): x is number => x !== undefined && !Number.isNaN(x))));
  const shares = new Map<string, number[]>();
  for (const r of runs) for (const l of r.validatorProfile ?? []) shares.set(l.what, [...(shares.get(l.what) ?? []), l.share]);
  const profile = [...shares.entries()].map(([what, xs]) => ({ what, share: round(median([...xs, ...Array<number>(runs.length - xs.length).fill(0)])) })).sort((a, b) => b.share - a.share);
  return {
    curve: runs[0]!.curve,
    validators: runs[0]!.validators,
    runs: runs.length,
    txPerS: m((r) => r.txPerS),
    p50: m((r) => r.latencyMs.p50),
    p90: m((r) => r.latencyMs.p90),
    p99: m((r) => r.latencyMs.p99),
    txsPerBlock: m((r) => r.perBlock.txsMedian),
    blockIntervalMs: m((r) => r.perBlock.intervalMsMedian),
    headerToCommitMs: m((r) => r.perBlock.headerToCommitMsMedian),
    idleHeaderToCommitMs: m((r) => r.perBlock.idleHeaderToCommitMsMedian),
    commitToNextHeaderMs: m((r) => r.perBlock.commitToNextHeaderMsMedian),
    viewChangeEvents: runs.map((r) => r.viewChanges.events),
    validatorCores: m((r) => r.cpu.validators),
    otherCores: m((r) => r.cpu.others),
    cpuMsPerTx: m((r) => r.cpuMsPerTx),
    txPerSOnTwoFreeCores: m((r) => r.txPerSOnTwoFreeCores),
    boundTxPerS: m((r) => r.boundTxPerS),
    ...(profile.length ? { validatorProfile: profile } : {}),
  };
}

const failures: { curve: string; validators: number; error: string }[] = [];
const report: { date: string; node: string; args: string[]; curves: { curve: string; verifyPerS: number; blockCost: BlockCost; medians: MedianRow[]; runs: RunResult[] }[]; failures: typeof failures } = {
  date: new Date().toISOString(),
  node: process.version,
  args: process.argv.slice(2),
  curves: [],
  failures,
};

for (const type of CURVES) {
  const curve = CURVE_NAMES[type];
  console.log(`${curve}:`);
  const verifyPerS = measureVerifyRate(type);
  console.log(`  bound: crypto/sign.ts verify ${Math.round(verifyPerS)}/s on one core (best of three 1 s windows) → 2 cores ÷ 4 validators = ${Math.round(verifyPerS / 2)} tx/s; target ${TARGET_TPS[type]} tx/s, p50 < ${TARGET_P50_MS} ms`);
  const blockCost = await measureBlockCost(type, BLOCK_COST_TXS, 6, { profile: true });
  const ms = blockCost.ms;
  console.log(
    `  block of ${blockCost.txsPerBlock} txs (${blockCost.blockBytes} B), in-process ms under the CPU profiler (bench/blockCost.ts without --profile for plain timings): admission verify ${round(ms.admitVerify)}, propose (execute+state root) ${round(ms.propose)}, ` +
      `encode ${round(ms.encode)}, decode ${round(ms.decode)}, replica processProposal ${round(ms.replicaProcess)}, commit ${round(ms.commit)}`,
  );
  for (const [stage, lines] of Object.entries(blockCost.profile ?? {})) {
    console.log(`    ${stage} CPU profile: ${lines.slice(0, 6).map((l) => `${l.where} ${l.share}%`).join('; ')}`);
  }
  const perSender = Math.ceil(txBudget(type) / SENDERS);
  const spec: LoadSpec = { chainId: CHAIN_ID, type, senders: SENDERS, perSender, label: `pbft-${curve}` };
  const t = performance.now();
  const txs = await presignLoad(spec, WORKERS);
  console.log(`  presigned ${SENDERS} senders × ${perSender} txs in ${round((performance.now() - t) / 1000)} s`);
  const runs: RunResult[] = [];
  // repetitions interleaved (4, 7, 10, 16, 4, 7, …) so a burst of other load on the machine does not hit one N only
  for (let rep = 0; rep < REPEAT; rep++) {
    for (const n of VALIDATORS) {
      try {
        const r = await runOne(type, n, rep, txs, verifyPerS);
        runs.push(r);
        printRun(r);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        console.log(`  ${curve} N=${n}: FAILED ${msg}`);
        failures.push({ curve, validators: n, error: msg });
      }
    }
  }
  const medians = VALIDATORS.map((n) => runs.filter((r) => r.validators === n)).filter((rs) => rs.length > 0).map(medianRow);
  console.log(`  medians over ${REPEAT} run(s):`);
  console.log('  | N | tx/s | p50 ms | p90 ms | p99 ms | txs/block | block interval ms | header→commit ms (idle) | view changes per run | validator cores / others | validator CPU ms/tx | tx/s on 2 free cores |');
  for (const r of medians) {
    console.log(
      `  | ${r.validators} | ${r.txPerS} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.txsPerBlock} | ${r.blockIntervalMs} | ${r.headerToCommitMs} (${r.idleHeaderToCommitMs}) | ${r.viewChangeEvents.join(', ')} | ${r.validatorCores} / ${r.otherCores} | ${r.cpuMsPerTx} | ${r.txPerSOnTwoFreeCores} |`,
    );
  }
  report.curves.push({ curve, verifyPerS: Math.round(verifyPerS), blockCost, medians, runs });
}
if (JSON_OUT) await writeFile(JSON_OUT, JSON.stringify(report, null, 2) + '\n');
else console.log(JSON.stringify(report, null, 2));
