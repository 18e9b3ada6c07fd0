// CPU accounting from /proc (Linux): seconds used by given processes and by the whole machine, so a
// benchmark can say how much of the machine its processes had and how much other work took.
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ); 100 on every mainstream Linux build. */
const TICKS = 100;

/** utime + stime of a process in seconds, or undefined when it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name is in parentheses and may contain spaces: fields start after the last ')'
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS; // fields 14 and 15 of the full line
  } catch {
    return undefined;
  }
}

export interface MachineCpu {
  /** Busy seconds summed over all cores. */
  busy: number;
  /** All seconds summed over all cores (busy + idle + iowait). */
  total: number;
}

export function machineCpu(): MachineCpu | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / TICKS, total: total / TICKS };
  } catch {
    return undefined;
  }
}

/** CPU snapshot of some processes and the machine. */
export interface CpuSnapshot {
  at: number;
  procs: (number | undefined)[];
  self: number;
  machine: MachineCpu | undefined;
}

export function cpuSnapshot(pids: number[]): CpuSnapshot {
  const u = process.cpuUsage();
  return { at: performance.now(), procs: pids.map(processCpuSeconds), self: (u.user + u.system) / 1e6, machine: machineCpu() };
}

export interface CpuUse {
  /** Cores used by each process over the interval (CPU seconds ÷ wall seconds). */
  perProc: number[];
  /** Cores used by all the processes together. */
  procs: number;
  /** Cores used by this (benchmark client) process. */
  self: number;
  /** Cores busy on the whole machine (from /proc/stat). */
  machineBusy: number | undefined;
  /** machineBusy − procs − self: other work sharing the machine. */
  others: number | undefined;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const wall = (b.at - a.at) / 1000;
  const perProc = a.procs.map((x, i) => (x === undefined || b.procs[i] === undefined ? NaN : (b.procs[i]! - x) / wall));
  const procs = perProc.reduce((s, x) => s + (Number.isNaN(x) ? 0 : x), 0);
  const self = (b.self - a.self) / wall;
  const machineBusy = a.machine && b.machine ? (b.machine.busy - a.machine.busy) / wall : undefined;
  return { perProc, procs, self, machineBusy, others: machineBusy === undefined ? undefined : Math.max(0, machineBusy - procs - self) };
}
