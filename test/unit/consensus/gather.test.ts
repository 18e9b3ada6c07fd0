import t from 'tap';
import { gatherTxs, gatherLimitMs, gatherPlan, type GatherOptions } from '../../../consensus/gather.js';

/**
 * A virtual clock: `arrivals(t)` says how many txs have been admitted by virtual time t (ms); each
 * sleep advances the clock and records its length.
 */
function harness(arrivals: (t: number) => number, o: Partial<Omit<GatherOptions, 'txs' | 'sleep'>> = {}) {
  let now = 0;
  const sleeps: number[] = [];
  const txs = {
    get admitted() {
      return arrivals(now);
    },
    get size() {
      return 1 + arrivals(now); // one tx was ready when the primary started gathering
    },
  };
  const run = () =>
    gatherTxs({
      txs,
      stepMs: o.stepMs ?? 20,
      maxMs: o.maxMs ?? 200,
      fullAt: o.fullAt ?? 1_000_000,
      ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
      ...(o.enough !== undefined ? { enough: o.enough } : {}),
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      live: o.live ?? (() => true),
    });
  return { run, sleeps, now: () => now };
}

t.test('nothing arrives: one step, as a fixed delay', async (t) => {
  const h = harness(() => 0);
  t.equal(await h.run(), 20);
  t.same(h.sleeps, [20]);
});

t.test('a burst: waits while txs keep arriving, stops at the first quiet step', async (t) => {
  // 100 txs arrive over the first 50 ms, then nothing
  const h = harness((now) => Math.min(100, 2 * now));
  t.equal(await h.run(), 80, 'the steps ending at 20, 40 and 60 saw arrivals (the last at t = 50); the one ending at 80 did not');
  t.same(h.sleeps, [20, 20, 20, 20]);
});

t.test('a steady stream never pauses: stops at maxMs, the last step cut to fit', async (t) => {
  const h = harness((now) => now, { maxMs: 70 });
  t.equal(await h.run(), 70);
  t.same(h.sleeps, [20, 20, 20, 10]);
});

t.test('a full block is ready: no further step', async (t) => {
  const h = harness((now) => 10 * now, { fullAt: 300 });
  t.equal(await h.run(), 40, 'size 201 after 20 ms, 401 after 40 ms');
});

t.test('a proposal made moot (stopped, new height or view) stops gathering', async (t) => {
  const clock = { now: () => 0 };
  const h = harness((now) => now, { live: () => clock.now() < 40 });
  clock.now = h.now;
  t.equal(await h.run(), 40, 'txs still arriving, but the proposal is moot at t = 40');
});

t.test('stepMs ≤ 0: no wait at all; maxMs below one step: one step', async (t) => {
  const none = harness((now) => now, { stepMs: 0 });
  t.equal(await none.run(), 0);
  t.same(none.sleeps, []);
  const one = harness((now) => now, { stepMs: 20, maxMs: 5 });
  t.equal(await one.run(), 20);
});

t.test('finer ticks: the gathering ends stepMs after the last arrival seen, not at a step boundary', async (t) => {
  // 100 txs by t = 50 (2 per ms), looked at every 5 ms: the last arrival is seen at 50, quiet from 50 to 70
  const h = harness((now) => Math.min(100, 2 * now), { tickMs: 5 });
  t.equal(await h.run(), 70);
  t.ok(h.sleeps.every((ms) => ms === 5), 'every wait is one tick');
});

t.test('enough: stops as soon as as many txs arrived as the last block held, without the quiet step', async (t) => {
  const burst = harness((now) => Math.min(100, 2 * now), { tickMs: 5, enough: 100 });
  t.equal(await burst.run(), 50, 'the 100th tx is there at t = 50: no 20 ms of quiet waited out');
  const before = harness(() => 100, { tickMs: 5, enough: 100 });
  t.equal(await before.run(), 5, 'already reached (the burst beat the commit here): one tick');
  const short = harness((now) => Math.min(60, 2 * now), { tickMs: 5, enough: 100 });
  t.equal(await short.run(), 50, 'a smaller burst than the last block: the quiet rule ends it (last arrival seen at 30)');
  const stream = harness((now) => now, { tickMs: 5, enough: 1000, maxMs: 120 });
  t.equal(await stream.run(), 120, 'a steady stream that never reaches it: maxMs');
});

t.test('gatherLimitMs: blockDelayMaxMs bounded by the last round, one step after a view change', async (t) => {
  t.equal(gatherLimitMs(0, 20, 250, 150), 150, 'a loaded round of 150 ms');
  t.equal(gatherLimitMs(0, 20, 250, 900), 250, 'capped by blockDelayMaxMs');
  t.equal(gatherLimitMs(0, 20, 250, 5), 20, 'at least one step');
  t.equal(gatherLimitMs(0, 20, undefined, 150), 20, 'no blockDelayMaxMs: one step, as before');
  t.equal(gatherLimitMs(1, 20, 250, 150), 20, 'view > 0: the round is late already');
});

t.test('gatherPlan: what the driver passes for a proposal', async (t) => {
  const base = { view: 0, stepMs: 20, blockDelayMaxMs: 250, lastRoundMs: 150, admittedAtCommit: 1000, lastBlockTxs: 512 };
  t.same(gatherPlan(base), { stepMs: 20, tickMs: 5, maxMs: 150, enough: 1512 }, 'a loaded chain: the burst of the last block\'s size, within the last round');
  t.same(gatherPlan({ ...base, lastBlockTxs: 0 }), { stepMs: 20, tickMs: 5, maxMs: 150 }, 'after an empty block: no target, the quiet rule and the bound');
  t.same(gatherPlan({ ...base, view: 2 }), { stepMs: 20, tickMs: 5, maxMs: 20, enough: 1512 }, 'after a view change: one step at most');
  t.same(gatherPlan({ ...base, stepMs: 3, blockDelayMaxMs: undefined }), { stepMs: 3, tickMs: 1, maxMs: 3, enough: 1512 }, 'a tick is at least 1 ms; no blockDelayMaxMs: one step');
});
