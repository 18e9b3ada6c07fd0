// N validator OS processes on loopback for benchmarks: homes in a temp dir (removed at stop),
// consensus settings written into each config.json, `iotchain start` per home (optionally under
// V8's sampling profiler), and a stop that always runs — from a finally block, on SIGINT/SIGTERM,
// and (SIGKILL, synchronously) on exit.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNetwork, VALIDATOR_NODE_FLAGS } from '../../node/home.js';
import { paths, writeJson } from '../../node/config.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, freePortBlock } from '../../test/utils/proc.js';

export interface ConsensusSettings {
  blockDelayMs?: number;
  blockDelayMaxMs?: number;
  emptyBlockIntervalMs?: number;
  timeoutBaseMs?: number;
  timeoutMaxMs?: number;
}

export interface ClusterOptions {
  validators: number;
  chainId: string;
  /** ADDRESS=AMOUNT entries funded at genesis. */
  fund: string[];
  consensus?: ConsensusSettings;
  logLevel?: 'info' | 'debug' | 'warn';
  startTimeoutMs?: number;
  /** Run the validators with V8's sampling profiler (`--cpu-prof`); profiles land in `profileDir` at exit. */
  cpuProfile?: { intervalUs: number };
  /** Extra Node.js flags for the validator processes (e.g. V8 heap settings to compare). */
  nodeFlags?: string[];
  /** Genesis params to override (e.g. `maxBlockTxs`, to compare block sizes under one load). */
  genesisParams?: Record<string, number | string>;
}

/** One parsed pino line of a validator's output. */
export interface LogLine {
  node: number;
  level: number;
  time: number;
  msg: string;
  fields: Record<string, unknown>;
}

export interface Cluster {
  readonly dir: string;
  readonly rpcUrls: string[];
  readonly pids: number[];
  /** Where the validators write their .cpuprofile files (with cpuProfile). */
  readonly profileDir: string;
  /** Parsed JSON log lines of validator i so far (non-JSON lines are skipped). */
  logs(i: number): LogLine[];
  /** Everything validator i wrote to stdout and stderr so far. */
  output(i: number): string;
  /** Whether every validator process is still running. */
  allRunning(): boolean;
  /** Stops every process (SIGTERM, SIGKILL after 10 s); idempotent. */
  stopProcesses(): Promise<void>;
  /** Stops every process and removes the temp dir; idempotent. */
  stop(): Promise<void>;
}

const live = new Set<Cluster>();
let handlersInstalled = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\n${sig}: stopping ${live.size} cluster(s)…\n`);
    void Promise.allSettled([...live].map((c) => c.stop())).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // last resort (e.g. process.exit from elsewhere): kill synchronously, remove dirs synchronously
  process.once('exit', () => {
    for (const c of live) {
      for (const pid of c.pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(c.dir, { recursive: true, force: true });
    }
  });
}

/**
 * One `iotchain start` process. Like test/utils' Proc, but with node flags before the script (the
 * V8 profiler flags are not allowed in NODE_OPTIONS) and a wait that scans only new output.
 */
class ValidatorProc {
  readonly child: ChildProcess;
  out = '';
  private readonly exited: Promise<void>;

  constructor(nodeFlags: string[], args: string[]) {
    this.child = spawn(process.execPath, [...nodeFlags, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => (this.out += d.toString());
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when `needle` appears in the output; rejects on exit or after timeoutMs. */
  async waitFor(needle: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let from = 0;
    for (;;) {
      if (this.out.indexOf(needle, from) >= 0) return;
      from = Math.max(0, this.out.length - needle.length);
      if (!this.running) throw new Error(`process exited before "${needle}"; output:\n${this.out.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${needle}"; output so far:\n${this.out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100)); // polling a child's output, bounded by the deadline
    }
  }

  /** Sends `signal` and waits for the exit (SIGKILL after timeoutMs). */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function parseLines(node: number, out: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o.level === 'number' && typeof o.msg === 'string') {
        lines.push({ node, level: o.level, time: typeof o.time === 'number' ? o.time : 0, msg: o.msg, fields: o });
      }
    } catch {
      // a partial line at the end of the buffer
    }
  }
  return lines;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  installHandlers();
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-bench-pbft-'));
  const procs: ValidatorProc[] = [];
  let stopping: Promise<void> | undefined;
  let stoppingProcs: Promise<void> | undefined;
  const base = await freePortBlock(2 * o.validators);
  const cluster: Cluster = {
    dir,
    rpcUrls: Array.from({ length: o.validators }, (_, i) => `http://127.0.0.1:${base + i}`),
    pids: [],
    profileDir: join(dir, 'profiles'),
    logs: (i) => parseLines(i, procs[i]?.out ?? ''),
    output: (i) => procs[i]?.out ?? '',
    allRunning: () => procs.length === o.validators && procs.every((p) => p.running),
    stopProcesses() {
      stoppingProcs ??= Promise.all(procs.map((p) => p.stop('SIGTERM', 10_000))).then(() => undefined);
      return stoppingProcs;
    },
    stop() {
      stopping ??= (async () => {
        await cluster.stopProcesses();
        await rm(dir, { recursive: true, force: true });
        live.delete(cluster);
      })();
      return stopping;
    },
  };
  live.add(cluster);
  try {
    const { homes } = await initNetwork({ dir, validators: o.validators, chainId: o.chainId, rpcPort: base, p2pPort: base + o.validators, fund: o.fund });
    for (const home of homes) {
      const file = paths(home).config;
      const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;
      config.consensus = { ...config.consensus, ...o.consensus };
      config.log = { ...config.log, level: o.logLevel ?? 'info' };
      await writeJson(file, config);
      if (o.genesisParams) {
        const g = JSON.parse(await readFile(paths(home).genesis, 'utf8')) as { params: Record<string, unknown> };
        g.params = { ...g.params, ...o.genesisParams };
        await writeJson(paths(home).genesis, g);
      }
    }
    const flags = [...VALIDATOR_NODE_FLAGS, ...(o.nodeFlags ?? []), ...(o.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${cluster.profileDir}`, `--cpu-prof-interval=${o.cpuProfile.intervalUs}`] : [])];
    for (const home of homes) {
      const p = new ValidatorProc(flags, ['start', '--home', home]);
      procs.push(p);
      if (p.child.pid !== undefined) cluster.pids.push(p.child.pid);
    }
    await Promise.all(procs.map((p) => p.waitFor('"node started"', o.startTimeoutMs ?? 180_000)));
    return cluster;
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}
