import t from 'tap';
import { checkParams, defaultParams, faultTolerance, primaryOf, quorum, timeoutFor, weakQuorum } from '../../../../consensus/core/index.js';

t.test('fault tolerance and quorums by validator count', async (t) => {
  // n → [f, quorum, f+1]; quorum = floor((n+f)/2)+1, i.e. 2f+1 when n = 3f+1
  const table: [number, number, number, number][] = [
    [1, 0, 1, 1],
    [2, 0, 2, 1],
    [3, 0, 2, 1],
    [4, 1, 3, 2],
    [5, 1, 4, 2],
    [6, 1, 4, 2],
    [7, 2, 5, 3],
    [10, 3, 7, 4],
    [13, 4, 9, 5],
    [16, 5, 11, 6],
  ];
  for (const [n, f, q, weak] of table) {
    t.same([faultTolerance(n), quorum(n), weakQuorum(n)], [f, q, weak], `n=${n}`);
    // any two quorums share at least f+1 validators, so at least one correct one
    t.ok(2 * quorum(n) - n >= f + 1, `n=${n}: quorum intersection`);
    // the correct validators alone form a quorum
    t.ok(n - f >= quorum(n), `n=${n}: liveness with f faulty`);
  }
});

t.test('the primary rotates with height and view', async (t) => {
  t.same([0, 1, 2, 3, 4].map((v) => primaryOf(1, v, 4)), [1, 2, 3, 0, 1]);
  t.same([1, 2, 3, 4, 5].map((h) => primaryOf(h, 0, 4)), [1, 2, 3, 0, 1]);
  t.equal(primaryOf(7, 3, 1), 0);
});

t.test('timeouts double per view up to a cap and a maximum', async (t) => {
  const p = defaultParams(4, 0, { timeoutBaseMs: 100, timeoutMaxExponent: 3, timeoutMaxMs: 500 });
  t.same([0, 1, 2, 3, 4, 10, 1_000_000].map((v) => timeoutFor(p, v)), [100, 200, 400, 500, 500, 500, 500]);
  const q = defaultParams(4, 0, { timeoutBaseMs: 100, timeoutMaxExponent: 2, timeoutMaxMs: 10_000 });
  t.same([0, 1, 2, 3, 50].map((v) => timeoutFor(q, v)), [100, 200, 400, 400, 400]);
});

t.test('bad parameters are configuration errors', async (t) => {
  const good = defaultParams(4, 0);
  t.throws(() => checkParams({ ...good, n: 0 }), RangeError);
  t.throws(() => checkParams({ ...good, self: 4 }), RangeError);
  t.throws(() => checkParams({ ...good, self: -1 }), RangeError);
  t.throws(() => checkParams({ ...good, timeoutMaxMs: 10, timeoutBaseMs: 20 }), RangeError);
  t.throws(() => checkParams({ ...good, timeoutMaxExponent: 31 }), RangeError);
  t.throws(() => checkParams({ ...good, heightWindow: 0 }), RangeError);
  t.doesNotThrow(() => checkParams(good));
});
