// Scores (pure, integer only). See README "Formula".
//
// Each event has a weight w = points · ONE (ONE = 10^18) and a time t. A target's positive and
// negative sums at time T are
//   P(T) = Σ_{positive events} w_i · 2^(−(T − t_i)/halfLife),   N(T) likewise for negative ones,
// kept incrementally: a record holds (P, N) as of `updatedAt`; an event at time T first decays both
// to T (decay.ts), then adds its weight. (Each step rounds down, so a stored sum is the exact sum
// minus less than one unit of 10^−18 point per event and decay step.)
// Derived values:
//   score = P − N                                  (signed, fixed point)
//   ratioPpm = ⌊10^6 · (P + ONE) / (P + N + 2·ONE)⌋  (the mean of a Beta(1 + P, 1 + N):
//              500000 with no events, → 10^6 for only positive, → 0 for only negative ones)
import { ONE, decay } from './decay.js';
import type { Score } from './types.js';

/** Largest weight of a single event (fixed point): 2^160 (far above any vote, bounds penalties). */
export const MAX_EVENT_WEIGHT = 1n << 160n;

/** P and N decayed to `now` (never earlier than the record's time). */
export function decayedTo(s: Score, now: number, halfLifeMs: number): Score {
  const age = now - s.updatedAt;
  if (age <= 0) return s;
  return { ...s, pos: decay(s.pos, age, halfLifeMs), neg: decay(s.neg, age, halfLifeMs), updatedAt: now };
}

/** Adds an event of weight `w` (fixed point, clamped to MAX_EVENT_WEIGHT) at time `now`. */
export function addEvent(s: Score, now: number, halfLifeMs: number, w: bigint, positive: boolean): Score {
  const d = decayedTo(s, now, halfLifeMs);
  const weight = w > MAX_EVENT_WEIGHT ? MAX_EVENT_WEIGHT : w;
  return positive ? { ...d, pos: d.pos + weight, positives: d.positives + 1 } : { ...d, neg: d.neg + weight, negatives: d.negatives + 1 };
}

/**
 * Takes back a negative event of weight `w` recorded at `eventTime` (a forfeited negative vote):
 * subtracts w · 2^(−(now − eventTime)/halfLife) from N, floored at 0 against rounding.
 */
export function removeNegative(s: Score, now: number, halfLifeMs: number, w: bigint, eventTime: number): Score {
  const d = decayedTo(s, now, halfLifeMs);
  const back = decay(w, now - eventTime, halfLifeMs);
  return { ...d, neg: d.neg > back ? d.neg - back : 0n, negatives: d.negatives > 0 ? d.negatives - 1 : 0 };
}

/** Points (a rational num/den) as a fixed-point weight. */
export function weightOf(num: bigint, den: bigint): bigint {
  return (num * ONE) / den;
}

export function ratioPpm(pos: bigint, neg: bigint): number {
  return Number((1_000_000n * (pos + ONE)) / (pos + neg + 2n * ONE));
}

/** A fixed-point value as a decimal string with 18 decimals ("-1.500000000000000000"). */
export function formatFixed(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / ONE}.${(a % ONE).toString().padStart(18, '0')}`;
}
