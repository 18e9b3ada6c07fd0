// PBFT on simulated networks of other sizes: n = 1 (1-of-1 quorum), 7 and 10/16 (f = 2, 3, 5,
// colluding Byzantine validators), and the sizes that are not 3f+1 (2, 3, 5, 6).
// Scale with SIM_SEEDS=k; replay one run with SIM_SEED=<seed> SIM_N=<n>.
import t from 'tap';
import { runSeeds } from './scenarios.js';

const FILE = 'test/sim/pbft.sizes.test.ts';

t.test('n=1: crashes and restarts of the only validator', async (t) => {
  runSeeds(t, FILE, 1, 40, { blockTimeMs: 20 });
});

t.test('n=7: two colluding Byzantine validators', async (t) => {
  runSeeds(t, FILE, 7, 120);
});

t.test('n=10 and n=16', async (t) => {
  runSeeds(t, FILE, 10, 16);
  runSeeds(t, FILE, 16, 6);
});

t.test('n = 2, 3, 5, 6 (not 3f+1: quorum floor((n+f)/2)+1)', async (t) => {
  for (const n of [2, 3, 5, 6]) runSeeds(t, FILE, n, 8);
});
