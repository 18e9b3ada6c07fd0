// Named fault scenarios on the simulated network: each pins the faults and varies the rest by seed.
import t from 'tap';
import { primaryOf } from '../../consensus/core/index.js';
import { runScenario } from './harness.js';
import { describeScenario, randomScenario, runSeeds, seedPlan } from './scenarios.js';

const FILE = 'test/sim/pbft.scenarios.test.ts';

t.test('an equivocating primary (different PrePrepares to different replicas) never forks the chain', async (t) => {
  const byz = primaryOf(1, 0, 4);
  runSeeds(t, FILE, 4, 20, { byzantine: [{ index: byz, kind: 'equivocator' }], faults: [] });
});

t.test('a Byzantine replica voting for two blocks, plus an equivocating primary (n=7)', async (t) => {
  runSeeds(t, FILE, 7, 10, {
    byzantine: [
      { index: primaryOf(1, 0, 7), kind: 'equivocator' },
      { index: 0, kind: 'doubleVoter' },
    ],
    faults: [],
    commitDropRate: 0.5,
  });
});

t.test('a 2/2 partition halts without forking; after the heal the chain resumes', async (t) => {
  for (const seed of seedPlan(4, 10)) {
    const sc = randomScenario(seed, 4, {
      byzantine: [],
      faults: [{ at: 0, fault: { kind: 'partition', groups: [0, 0, 1, 1] } }],
      dropRate: 0,
      chaosMs: 3_000,
    });
    const res = runScenario(sc);
    if (!res.ok) {
      t.fail(`seed ${seed} failed: replay with SIM_SEED=${seed} SIM_N=4 npx tap ${FILE}`, { diagnostic: true, scenario: describeScenario(sc), error: res.error ?? '' });
    }
    else t.same(res.heightsAtHeal, [0, 0, 0, 0], `seed ${seed}: nothing decided while split, heights ${res.heights.join(',')} after`);
  }
});

t.test('every validator crashes at once and restarts from its WAL', async (t) => {
  const crashAll = (at: number, down: number) =>
    [0, 1, 2, 3].flatMap((node) => [
      { at, fault: { kind: 'crash' as const, node } },
      { at: at + down, fault: { kind: 'restart' as const, node } },
    ]);
  runSeeds(t, FILE, 4, 15, { byzantine: [], faults: [...crashAll(700, 50), ...crashAll(1_500, 400), ...crashAll(2_200, 5)] });
});

t.test('validators crash and restart mid-round again and again (lossy commits)', async (t) => {
  const faults = Array.from({ length: 12 }, (_, k) => [
    { at: 150 + k * 230, fault: { kind: k % 2 === 0 ? ('crash' as const) : ('crashMidStep' as const), node: k % 4 } },
    { at: 150 + k * 230 + 60 + (k % 3) * 70, fault: { kind: 'restart' as const, node: k % 4 } },
  ]).flat();
  runSeeds(t, FILE, 4, 30, { byzantine: [], faults, commitDropRate: 0.5, chaosMs: 3_200 });
});

t.test('a validator that sends garbage is rejected and the others go on', async (t) => {
  runSeeds(t, FILE, 4, 10, { byzantine: [{ index: 2, kind: 'garbage' }], faults: [], dropRate: 0 });
});

t.test('a primary proposing invalid blocks gets no vote', async (t) => {
  runSeeds(t, FILE, 4, 10, { byzantine: [{ index: primaryOf(1, 0, 4), kind: 'badProposer' }], faults: [] });
});
