// Command-line options of the benchmarks: `--name value` pairs, checked, with a clear error for a
// value that is not what the option takes.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Options that take a value, and flags, as the bench has read them (for finishArgs). */
const valueOptions = new Set<string>();
const flags = new Set<string>();

/** The value after `--name`, or undefined when the option is absent. */
export function arg(name: string): string | undefined {
  valueOptions.add(name);
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

/** Whether the flag `--name` (no value) is given. */
export function flag(name: string): boolean {
  flags.add(name);
  return process.argv.includes(`--${name}`);
}

/**
 * Call once the bench has read its options (`later`: value options it reads only further on).
 * `--help` (or `-h`) prints the bench file's header comment and exits before any work starts; an
 * option the bench does not read is an error, so a typo cannot silently run the default load.
 */
export function finishArgs(benchUrl: string, later: string[] = []): void {
  for (const l of later) valueOptions.add(l);
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    const lines = readFileSync(fileURLToPath(benchUrl), 'utf8').split('\n');
    const head = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
    console.log(head.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(0);
  }
  const unknown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      unknown.push(a);
      continue;
    }
    const name = a.slice(2);
    if (valueOptions.has(name)) {
      if (i + 1 >= argv.length) throw new Error(`--${name} needs a value (--help lists the options)`);
      i++; // its value, which may itself start with -- (e.g. --node-flags "--trace-gc")
    } else if (!flags.has(name)) unknown.push(a);
  }
  if (unknown.length > 0) throw new Error(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(' ')} (--help lists the options)`);
}
