// Order statistics for benchmark reports (nearest-rank percentiles).

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Rounds for printing: integers above 100, else 3 significant digits. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  return Math.abs(x) >= 100 ? Math.round(x) : Number(x.toPrecision(3));
}
