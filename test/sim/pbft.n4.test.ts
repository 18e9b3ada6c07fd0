// PBFT on a simulated network of 4 validators (f = 1): hundreds of random fault scenarios.
// Scale with SIM_SEEDS=k (k times the seeds); replay one with SIM_SEED=<seed> SIM_N=4.
import t from 'tap';
import { runSeeds } from './scenarios.js';

t.test('n=4: random delays, drops, duplicates, partitions, crashes, one Byzantine validator', async (t) => {
  runSeeds(t, 'test/sim/pbft.n4.test.ts', 4, 400);
});
