// Time decay in fixed-point integers (no floating point anywhere).
//
// weight(age) = 2^(−age / halfLife). With age = n·halfLife + r (0 ≤ r < halfLife):
//   2^(−age/h) = 2^(−n) · 2^(−f),   f = r/h ∈ [0, 1), taken to FRAC_BITS = 64 binary digits:
//   f ≈ Σ_k b_k 2^(−k)  ⇒  2^(−f) = Π_{k: b_k = 1} 2^(−2^(−k)) = Π ROOT_k / PREC.
// ROOT_k = 2^(−2^(−k)) · PREC (PREC = 10^36, an internal precision) is computed once with integer
// square roots:  ROOT_1 = ⌊√(PREC²/2)⌋,  ROOT_k = ⌊√(ROOT_{k−1} · PREC)⌋.
// decay(x, age) = ⌊ (x · PREC · Π ROOT_k / PREC^m) / PREC ⌋ >> n, each product truncated. The
// internal error (≤ 64 truncations of 10^−36) is far below the last digit of the 10^−18 fixed
// point the module stores (ONE = 10^18 per point), so a factor is exact to its last decimal (±1).
// It is the same on every node because it is all bigint.
export const ONE = 10n ** 18n;
/** Internal precision of the decay computation. */
export const PREC = 10n ** 36n;
export const FRAC_BITS = 64;

/** ⌊√n⌋ for n ≥ 0 (Newton's method on bigints). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = 1n << (BigInt(n.toString(2).length + 1) >> 1n);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** ROOTS[k] = 2^(−2^(−k)) · PREC for k = 1..FRAC_BITS (ROOTS[0] = PREC, unused). */
export const ROOTS: readonly bigint[] = (() => {
  const r: bigint[] = [PREC, isqrt((PREC * PREC) / 2n)];
  for (let k = 2; k <= FRAC_BITS; k++) r.push(isqrt(r[k - 1]! * PREC));
  return r;
})();

/** x · 2^(−age/halfLife), rounded down. `age` and `halfLife` in ms (non-negative integers, halfLife > 0). */
export function decay(x: bigint, ageMs: number, halfLifeMs: number): bigint {
  if (x === 0n || ageMs <= 0) return x;
  const age = BigInt(ageMs);
  const h = BigInt(halfLifeMs);
  const n = age / h;
  if (n >= 512n) return 0n;
  const f = ((age % h) << BigInt(FRAC_BITS)) / h;
  let v = x * PREC;
  for (let k = 1; k <= FRAC_BITS; k++) {
    if ((f >> BigInt(FRAC_BITS - k)) & 1n) v = (v * ROOTS[k]!) / PREC;
  }
  return (v / PREC) >> n;
}

/** The decay factor itself, 2^(−age/halfLife) · ONE. */
export function decayFactor(ageMs: number, halfLifeMs: number): bigint {
  return decay(ONE, ageMs, halfLifeMs);
}
