// In-process CPU profile of a piece of work (V8 sampling profiler through node:inspector), folded
// into "where the time goes": each sample is charged to the first project file below the entry
// frame (e.g. protocols/app.ts → state/authTree.ts) and to the innermost project file (what it was
// doing there: hashing, encoding, LevelDB, …). Node internals and dependencies are charged to the
// project frame that called them; GC is its own line.
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';
import { resolve } from 'node:path';

const ROOT = 'file://' + resolve(import.meta.dirname, '../..') + '/';
const SELF = 'bench/lib/profile.ts';

export interface ProfileLine {
  /** "stage file > innermost file", or "(garbage collector)" / "(program)". */
  where: string;
  ms: number;
  share: number;
}

export class StageProfiler {
  private readonly session = new Session();
  /** stage → (line → ms) */
  private readonly totals = new Map<string, Map<string, number>>();

  private constructor() {}

  static async open(intervalUs = 200): Promise<StageProfiler> {
    const p = new StageProfiler();
    p.session.connect();
    await p.session.post('Profiler.enable');
    await p.session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    return p;
  }

  /** Runs fn under the profiler; its samples are added to the stage's totals under their call paths. */
  async run<T>(stage: string, entryFile: string, fn: () => Promise<T>): Promise<T> {
    await this.session.post('Profiler.start');
    try {
      return await fn();
    } finally {
      const { profile } = await this.session.post('Profiler.stop');
      this.fold(stage, profile, entryFile);
    }
  }

  private fold(stageName: string, profile: Profiler.Profile, entryFile: string): void {
    let totals = this.totals.get(stageName);
    if (!totals) this.totals.set(stageName, (totals = new Map()));
    const parent = new Map<number, number>();
    const byId = new Map<number, Profiler.ProfileNode>();
    for (const n of profile.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    const project = (url: string): string | undefined => (url.startsWith(ROOT) && !url.includes('/node_modules/') ? url.slice(ROOT.length) : undefined);
    const label = new Map<number, string | undefined>();
    const labelOf = (id: number): string | undefined => {
      if (label.has(id)) return label.get(id);
      const leaf = byId.get(id)!;
      const fn = leaf.callFrame.functionName;
      if (fn === '(idle)' || fn === '(root)') return undefined;
      if (fn === '(garbage collector)' || fn === '(program)') return fn;
      // path of project files from the root down to this sample
      const files: string[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const f = project(byId.get(cur)!.callFrame.url);
        if (f !== undefined && files[files.length - 1] !== f) files.push(f);
      }
      files.reverse();
      const entry = files.lastIndexOf(entryFile);
      const stage = entry >= 0 ? files[entry + 1] ?? entryFile : files[0] ?? '(outside project code)';
      const inner = files[files.length - 1] ?? '(node internals)';
      // the profiler's own start/stop (inspector round trips) is not the work being measured
      const l = inner === SELF ? undefined : stage === inner ? stage : `${stage} > ${inner}`;
      label.set(id, l);
      return l;
    };
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const l = labelOf(samples[i]!);
      if (l === undefined) continue;
      const ms = (deltas[i] ?? 0) / 1000;
      totals.set(l, (totals.get(l) ?? 0) + ms);
    }
  }

  /** A stage's heaviest lines, by CPU milliseconds; `share` is of the stage's non-idle samples. */
  top(stage: string, n: number): ProfileLine[] {
    const totals = [...(this.totals.get(stage) ?? new Map<string, number>()).entries()];
    const all = totals.reduce((s, [, ms]) => s + ms, 0);
    return totals
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([where, ms]) => ({ where, ms: Math.round(ms), share: Math.round((1000 * ms) / all) / 10 }));
  }

  async close(): Promise<void> {
    await this.session.post('Profiler.disable');
    this.session.disconnect();
  }
}
