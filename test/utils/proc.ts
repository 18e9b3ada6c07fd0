// Real-process helpers for e2e tests: run the CLI, start long-running commands, always stop them.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

export const BIN = resolve(import.meta.dirname, '../../bin/iotchain.js');

/**
 * Polls `fn` every 200 ms until it returns a value (not undefined) and returns that value; a throw
 * counts as "not yet" (a node not up yet). Fails after `timeoutMs` naming `what`. For real
 * processes, whose progress no test can drive: bounded by the deadline, not a timing assumption.
 */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      /* node not up yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `iotchain ARGS` to completion (bounded by timeoutMs, then killed). */
export function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', rej);
    child.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** A long-running `iotchain` process whose output is collected; `waitFor` resolves on a line match. */
export class Proc {
  readonly child: ChildProcess;
  out = '';
  private waiters: { re: RegExp; res: () => void }[] = [];
  private exited: Promise<void>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      this.out += d.toString();
      this.waiters = this.waiters.filter((w) => {
        if (w.re.test(this.out)) {
          w.res();
          return false;
        }
        return true;
      });
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
  }

  waitFor(re: RegExp, timeoutMs = 60_000): Promise<void> {
    if (re.test(this.out)) return Promise.resolve();
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`timed out waiting for ${re}; ${this.digest()}`)), timeoutMs);
      this.waiters.push({ re, res: () => (clearTimeout(timer), res()) });
      void this.exited.then(() => {
        clearTimeout(timer);
        if (!re.test(this.out)) rej(new Error(`process exited (${this.child.exitCode ?? this.child.signalCode}) before ${re}; ${this.digest()}`));
      });
    });
  }

  /** What explains a failure: the non-log lines and warn/error/fatal log lines (the last 40), then the output's tail. */
  digest(): string {
    const lines = this.out.split('\n');
    const notable = lines.filter((l) => l.trim() !== '' && (!l.startsWith('{') || /"level":(40|50|60)/.test(l))).slice(-40);
    return `notable lines:\n${notable.join('\n').slice(-6000)}\noutput tail:\n${this.out.slice(-1500)}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after timeoutMs). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Whether a process with this pid exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** The OS's ephemeral (outgoing) port range: a port in it can be taken by any outbound connection. */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!];
  } catch {
    // not Linux: the IANA dynamic range
  }
  return [49152, 65535];
}

/**
 * A base port with `n` consecutive free ports on 127.0.0.1 (bounded tries), below the OS's
 * ephemeral range: a devnet's own outbound dials (every validator dials every other at start) take
 * ephemeral ports, and one landing on a port of the block before its node listens made that node
 * exit with EADDRINUSE.
 */
export async function freePortBlock(n: number): Promise<number> {
  const [ephemeralLo] = ephemeralRange();
  const lo = 10_000;
  const span = Math.max(1, ephemeralLo - n - lo);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = lo + ((process.pid * 7919 + attempt * 104729) % span);
    const ok = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<boolean>((res) => {
            const s = createServer();
            s.once('error', () => res(false));
            s.listen(base + i, '127.0.0.1', () => s.close(() => res(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
  throw new Error(`no block of ${n} free ports found`);
}
