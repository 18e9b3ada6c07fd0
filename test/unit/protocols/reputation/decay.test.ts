// The fixed-point decay formula and the score formulas at chosen values.
import t from 'tap';
import { decay, decayFactor, isqrt, ROOTS, ONE, PREC, FRAC_BITS } from '../../../../protocols/reputation/decay.js';
import { addEvent, decayedTo, removeNegative, ratioPpm, formatFixed, weightOf, MAX_EVENT_WEIGHT } from '../../../../protocols/reputation/score.js';
import { periodOf } from '../../../../protocols/reputation/votes.js';
import { EMPTY_SCORE } from '../../../../protocols/reputation/store.js';

const DAY = 86_400_000;
/** |a − b| ≤ tol */
const near = (a: bigint, b: bigint, tol: bigint) => (a > b ? a - b : b - a) <= tol;

t.test('isqrt is the exact floor square root', async (t) => {
  for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 10n ** 36n, 10n ** 36n / 2n, (1n << 255n) + 12345n]) {
    const r = isqrt(n);
    t.ok(r * r <= n && (r + 1n) * (r + 1n) > n, `isqrt(${n})`);
  }
  t.throws(() => isqrt(-1n));
});

t.test('ROOTS[k] = 2^(−2^−k)·PREC: squaring gives the previous root, ROOTS[1]² = PREC/2', async (t) => {
  t.equal(ROOTS.length, FRAC_BITS + 1);
  t.ok(near((ROOTS[1]! * ROOTS[1]!) / PREC, PREC / 2n, 2n));
  for (let k = 2; k <= FRAC_BITS; k++) t.ok(near((ROOTS[k]! * ROOTS[k]!) / PREC, ROOTS[k - 1]!, 2n), `ROOTS[${k}]`);
  t.ok(ROOTS[FRAC_BITS]! < PREC, 'strictly below one');
});

t.test('decay factor 2^(−age/halfLife) at chosen ages (18-decimal fixed point)', async (t) => {
  const h = DAY;
  // expected: the exact values truncated to 18 decimals; the formula must hit them to ±1 in the last digit
  const cases: [number, bigint][] = [
    [0, 1_000000000000000000n],
    [h / 4, 840896415253714543n], // 2^−0.25 = 0.840896415253714543031…
    [h / 3, 793700525984099737n], // 2^−(1/3) = 0.793700525984099737375…
    [h / 2, 707106781186547524n], // 2^−0.5  = 0.707106781186547524400…
    [(3 * h) / 4, 594603557501360533n], // 2^−0.75 = 0.594603557501360533358…
    [h, 500000000000000000n],
    [(3 * h) / 2, 353553390593273762n], // 2^−1.5 = 0.353553390593273762200…
    [2 * h, 250000000000000000n],
    [10 * h, 976562500000000n], // 2^−10
    [1, 999999991977463220n], // 2^−(1/86400000) = 0.999999991977463220144…
  ];
  for (const [age, want] of cases) t.ok(near(decayFactor(age, h), want, 1n), `age ${age / h} half-lives: ${decayFactor(age, h)} ≈ ${want}`);
  t.equal(decayFactor(h, h), ONE / 2n, 'exactly one half at one half-life');
  t.equal(decayFactor(600 * h, h), 0n, 'vanishes');
  t.equal(decay(10n * ONE, 2 * h, h), (10n * ONE) / 4n);
  t.equal(decay(0n, h, h), 0n);
  t.equal(decay(7n, -5, h), 7n, 'no decay for a non-positive age');
});

t.test('decay is monotonic and (almost exactly) multiplicative', async (t) => {
  const h = 100_000;
  let prev = decayFactor(0, h);
  for (let age = 1_000; age <= 5 * h; age += 7_919) {
    const f = decayFactor(age, h);
    t.ok(f < prev, `decreasing at ${age}`);
    prev = f;
  }
  const x = 123_456n * ONE;
  for (const [a, b] of [[1_000, 2_000], [33_333, 66_667], [150_000, 49_999]] as const) {
    t.ok(near(decay(decay(x, a, h), b, h), decay(x, a + b, h), x / 10n ** 15n), `decay(${a}) then decay(${b}) ≈ decay(${a + b})`);
  }
});

t.test('scores: events, decay to query time, removal, ratio, formatting', async (t) => {
  const h = 1_000;
  let s = addEvent(EMPTY_SCORE, 10_000, h, 4n * ONE, true);
  s = addEvent(s, 10_000, h, ONE, false);
  t.match(s, { pos: 4n * ONE, neg: ONE, positives: 1, negatives: 1, updatedAt: 10_000 });
  const later = decayedTo(s, 11_000, h);
  t.equal(later.pos, 2n * ONE);
  t.equal(later.neg, ONE / 2n);
  t.equal(decayedTo(s, 9_000, h), s, 'never decays backwards');
  s = addEvent(s, 12_000, h, 3n * ONE, true);
  t.equal(s.pos, ONE + 3n * ONE, 'older weight decayed 2 half-lives, then the new one added');
  const back = removeNegative(s, 12_000, h, ONE, 10_000);
  t.equal(back.neg, 0n, 'a removed negative vote takes back exactly its decayed weight');
  t.equal(back.negatives, 0);
  t.equal(removeNegative(back, 12_000, h, ONE, 10_000).neg, 0n, 'floored at zero');
  t.equal(ratioPpm(0n, 0n), 500_000, 'no events: 0.5');
  t.equal(ratioPpm(8n * ONE, 0n), 900_000, '(8+1)/(8+0+2)');
  t.equal(ratioPpm(0n, 8n * ONE), 100_000);
  t.equal(formatFixed(-3n * ONE / 2n), '-1.500000000000000000');
  t.equal(formatFixed(5n), '0.000000000000000005');
  t.equal(weightOf(3n, 2n), (3n * ONE) / 2n);
  t.equal(addEvent(EMPTY_SCORE, 0, h, MAX_EVENT_WEIGHT * 2n, false).neg, MAX_EVENT_WEIGHT, 'an event weight is capped');
});

t.test('periods are computed with integer arithmetic', async (t) => {
  t.equal(periodOf(0, 1000), 0);
  t.equal(periodOf(999, 1000), 0);
  t.equal(periodOf(1000, 1000), 1);
  t.equal(periodOf(9_007_199_254_740_990, 3), 3_002_399_751_580_330);
  t.equal(periodOf(9_007_199_254_740_989, 3), 3_002_399_751_580_329, 'no rounding at the edge of safe integers');
});
