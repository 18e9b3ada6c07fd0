// Random scenarios drawn from a seed, and the runner the sim tests share. A failure prints the
// seed, the scenario and the command that replays it.
import type { Test } from 'tap';
import { faultTolerance } from '../../consensus/core/index.js';
import { runScenario, type ByzKind, type Fault, type Scenario, type SimResult } from './harness.js';
import { Prng } from './prng.js';

const BYZ_KINDS: ByzKind[] = ['equivocator', 'doubleVoter', 'badProposer', 'garbage'];

/** A scenario for `n` validators drawn from `seed`; `overrides` pin parts of it (named scenarios). */
export function randomScenario(seed: number, n: number, overrides: Partial<Scenario> = {}): Scenario {
  const r = new Prng(seed ^ 0x5eed);
  const f = faultTolerance(n);
  const byzCount = f === 0 ? 0 : r.chance(0.7) ? f : r.int(0, f);
  const byzIdx = r.shuffle([...Array(n).keys()]).slice(0, byzCount);
  // With two or more Byzantine nodes, make them collude: an equivocating primary and a double voter.
  const byzantine = byzIdx.map((index, k) => ({ index, kind: byzCount >= 2 && k < 2 ? (k === 0 ? 'equivocator' : 'doubleVoter') : r.pick(BYZ_KINDS) }) as const);
  const honest = [...Array(n).keys()].filter((i) => !byzIdx.includes(i));
  const chaosMs = r.int(2_000, 5_000);
  const faults: { at: number; fault: Fault }[] = [];
  if (n > 1) {
    const partitions = r.int(0, 3);
    for (let k = 0; k < partitions; k++) {
      const at = r.int(0, chaosMs - 100);
      const groups = Array.from({ length: n }, () => r.int(0, 1));
      faults.push({ at, fault: { kind: 'partition', groups } });
      faults.push({ at: at + r.int(100, 2_500), fault: { kind: 'heal' } });
    }
  }
  const crashes = r.int(0, n === 1 ? 3 : Math.min(4, honest.length));
  for (let k = 0; k < crashes; k++) {
    const node = r.pick(honest);
    const at = r.int(0, chaosMs - 50);
    faults.push({ at, fault: r.chance(0.5) ? { kind: 'crash', node } : { kind: 'crashMidStep', node } });
    if (r.chance(0.8)) faults.push({ at: at + r.int(1, 2_000), fault: { kind: 'restart', node } });
  }
  return {
    seed,
    n,
    byzantine,
    dropRate: r.pick([0, 0.01, 0.05, 0.15, 0.3]),
    dupRate: r.pick([0, 0.05, 0.2]),
    commitDropRate: r.pick([0, 0, 0.3, 0.7]),
    maxDelayMs: r.pick([5, 20, 60, 150]),
    longDelayRate: r.pick([0, 0.01, 0.05]),
    execDelayMs: r.pick([1, 5, 20]),
    blockTimeMs: r.pick([0, 10, 50]),
    chaosMs,
    faults,
    extraHeights: 3,
    livenessMs: 60_000,
    timeouts: { timeoutBaseMs: 300, timeoutMaxMs: 4_800, timeoutMaxExponent: 4 },
    ...overrides,
  };
}

export function describeScenario(sc: Scenario): string {
  const byz = sc.byzantine.map((b) => `${b.index}:${b.kind}`).join(',') || 'none';
  const faults = sc.faults
    .slice()
    .sort((a, b) => a.at - b.at)
    .map((x) => `${x.at}:${x.fault.kind}${'node' in x.fault ? x.fault.node : 'groups' in x.fault ? x.fault.groups.join('') : ''}`)
    .join(' ');
  return `n=${sc.n} byzantine=[${byz}] drop=${sc.dropRate} dup=${sc.dupRate} delay≤${sc.maxDelayMs}ms long=${sc.longDelayRate} chaos=${sc.chaosMs}ms faults=[${faults}]`;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const x = Number(v);
  if (!Number.isSafeInteger(x) || x < 0) throw new Error(`${name} must be a non-negative integer`);
  return x;
}

/** SIM_SEEDS multiplies the seed counts (default 1); SIM_SEED + SIM_N replay one run; SIM_SEED_BASE shifts the seeds. */
export function seedPlan(n: number, count: number): number[] {
  const one = envInt('SIM_SEED');
  if (one !== undefined) {
    const wantN = envInt('SIM_N');
    return wantN === undefined || wantN === n ? [one] : [];
  }
  const scale = envInt('SIM_SEEDS') ?? 1;
  const base = envInt('SIM_SEED_BASE') ?? 1;
  return Array.from({ length: count * scale }, (_, k) => base + n * 100_000 + k);
}

export type Totals = Omit<SimResult, 'ok' | 'error' | 'heights' | 'heightsAtHeal' | 'virtualMs'> & { runs: number; failed: number; virtualMs: number };

function emptyTotals(): Totals {
  return { runs: 0, failed: 0, events: 0, virtualMs: 0, decisions: 0, evidence: 0, rejected: 0, viewChanges: 0, newViews: 0, reproposals: 0, syncs: 0, restarts: 0 };
}

function failedResult(error: string): SimResult {
  return { ok: false, error, events: 0, virtualMs: 0, heights: [], heightsAtHeal: [], decisions: 0, evidence: 0, rejected: 0, viewChanges: 0, newViews: 0, reproposals: 0, syncs: 0, restarts: 0 };
}

/** Runs every seed of the plan for `n` (one assertion per seed; a failure prints how to replay it) and comments the totals. */
export function runSeeds(t: Test, file: string, n: number, count: number, overrides: Partial<Scenario> = {}): Totals {
  const totals = emptyTotals();
  const started = Date.now();
  for (const seed of seedPlan(n, count)) {
    const sc = randomScenario(seed, n, overrides);
    let res: SimResult;
    try {
      res = runScenario(sc);
    } catch (err) {
      res = failedResult(`harness threw: ${(err as Error).stack ?? String(err)}`);
    }
    totals.runs++;
    for (const k of ['events', 'virtualMs', 'decisions', 'evidence', 'rejected', 'viewChanges', 'newViews', 'reproposals', 'syncs', 'restarts'] as const) {
      totals[k] += res[k];
    }
    if (!res.ok) {
      totals.failed++;
      t.fail(`seed ${seed} (n=${n}) failed: replay with SIM_SEED=${seed} SIM_N=${n} npx tap ${file}`, {
        diagnostic: true,
        scenario: describeScenario(sc),
        replay: `SIM_SEED=${seed} SIM_N=${n} npx tap ${file}`,
        error: res.error ?? '',
      });
    } else {
      t.pass(`seed ${seed}: heights ${res.heights.join(',')} after ${res.virtualMs} virtual ms`);
    }
  }
  const { runs, failed, ...rest } = totals;
  t.comment(`n=${n}: ${runs} seeds, ${failed} failed, ${Date.now() - started} ms; ${JSON.stringify(rest)}`);
  return totals;
}
