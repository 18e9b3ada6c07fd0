// Benchmarks' command lines (bench/lib/args.ts): --help prints the usage and starts nothing; a
// mistyped option is refused before any work instead of silently running the default load (a full
// bench/pbft.ts run is ~20 minutes).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

t.test('--help prints the bench file header and exits 0 without starting anything', async (t) => {
  for (const bench of ['bench/pbft.ts', 'bench/compare.ts', 'bench/blockCost.ts']) {
    const r = run(bench, '--help');
    t.equal(r.status, 0, `${bench} --help exits 0`);
    t.match(r.stdout, /Run: node --import tsx bench\//, `${bench}: usage printed`);
    t.notMatch(r.stdout, /presigned|median ms over|round 1 \(/, `${bench}: no measurement ran`);
  }
});

t.test('an unknown option or a missing value is an error naming it', async (t) => {
  const typo = run('bench/pbft.ts', '--senderz', '3');
  t.not(typo.status, 0);
  t.match(typo.stderr, /unknown options? --senderz/);
  const missing = run('bench/blockCost.ts', '--txs');
  t.not(missing.status, 0);
  t.match(missing.stderr, /--txs needs a value/);
  // a value that starts with -- belongs to its option; only the stray flag is reported
  const flags = run('bench/compare.ts', '--base', 'HEAD', '--head-node-flags', '--max-semi-space-size=32', '--bogus');
  t.not(flags.status, 0);
  t.match(flags.stderr, /unknown option --bogus \(/);
  t.notMatch(flags.stderr, /unknown option.*semi-space/);
});
