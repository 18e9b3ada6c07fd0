// Command-line options of the benchmarks: `--name value` pairs, checked, with a clear error for a
// value that is not what the option takes.

/** The value after `--name`, or undefined when the option is absent. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** A number option: finite and ≥ `min` (0 unless said), an integer when `integer`; `dflt` when absent. */
export function num(name: string, dflt: number, o: { integer?: boolean; min?: number } = {}): number {
  const v = arg(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  const min = o.min ?? 0;
  if (!Number.isFinite(n) || n < min || (o.integer && !Number.isSafeInteger(n))) {
    throw new Error(`--${name} expects ${o.integer ? 'an integer' : 'a number'} ≥ ${min}, got ${v}`);
  }
  return n;
}
