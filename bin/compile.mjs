// The node runs as JavaScript compiled ahead of time from its TypeScript sources, not through tsx.
//
// Why: tsx compiles each file when it is first imported and, with esbuild's keepNames, wraps every
// named closure in a defineProperty call that runs each time the closure is created (several per
// transaction on the execution path). Validators running the compiled output use ≈ 3.5 % less CPU
// per committed tx in the 4-validator benchmark (bench/compare.ts, 10 rounds: ratios 0.926–1.022,
// median 0.966; BENCHMARKS.md, session 12), and a process starts without compiling anything.
//
// How: the sources' fingerprint (SHA-256 over the path and bytes of every .ts file under SOURCE_DIRS,
// plus tsconfig.json, esbuild's version and this file) names the output directory,
// dist/<fingerprint>/, so the output can never be stale: an edited source has a new fingerprint,
// which is built on the next start (~0.3 s) or by `npm install`. Processes that build at once (a
// devnet, parallel tests) each write a private directory and rename it into place; the first rename
// wins and the others drop theirs. esbuild only strips types (one file in, one file out, no
// bundling): the JavaScript is the TypeScript minus its types, as tsx ran it. `native` and `bin` are
// symlinked into the output, so the paths the code resolves from import.meta.url (the addon, the
// CLI's own entry) hold there too.
// IOTCHAIN_TSX=1 runs the TypeScript through tsx instead (stack traces with .ts line numbers).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The folders the node's code lives in (tests and benchmarks run through tsx). */
export const SOURCE_DIRS = ['lib', 'crypto', 'state', 'protocols', 'consensus', 'mempool', 'node', 'rpc', 'cli'];
const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');
/** Written last into a finished output directory; its mtime is refreshed at each use (see prune). */
const MARKER = '.complete';
/** Build directories kept however old (the newest by last use), and the age after which others go. */
const KEEP = 3;
const UNUSED_MS = 3_600_000;

function sourceFiles(root, dirs) {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const d of dirs) if (existsSync(join(root, d))) walk(join(root, d));
  return out.sort();
}

/**
 * SHA-256 (hex, first 16 chars) over what decides the output: each source's path and bytes,
 * tsconfig.json, esbuild's version and this script (its build options).
 */
export function fingerprint(root, files, esbuildVersion) {
  const h = createHash('sha256');
  h.update(`esbuild ${esbuildVersion}\n`);
  h.update(readFileSync(SELF));
  const tsconfig = join(root, 'tsconfig.json');
  if (existsSync(tsconfig)) h.update(readFileSync(tsconfig));
  for (const f of files) {
    const body = readFileSync(f);
    h.update(`\n${relative(root, f)} ${body.length}\n`);
    h.update(body);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Returns the compiled CLI entry (a file URL), building it when the sources changed; throws if esbuild
 * cannot load or the build fails. `root` and `dirs` are for tests.
 */
export async function compiledEntry({ root = ROOT, dirs = SOURCE_DIRS, entry = 'cli/main.js', log } = {}) {
  const files = sourceFiles(root, dirs);
  const fp = fingerprint(root, files, esbuildVersion());
  const distRoot = join(root, 'dist');
  const out = join(distRoot, fp);
  const marker = join(out, MARKER);
  if (existsSync(marker)) {
    touch(marker);
    return pathToFileURL(join(out, entry)).href;
  }
  const started = Date.now();
  mkdirSync(distRoot, { recursive: true });
  const tmp = join(distRoot, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    const esbuild = await import('esbuild'); // only to build: loading it costs ≈ 40 ms per start
    await esbuild.build({
      entryPoints: files,
      outdir: tmp,
      outbase: root,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      tsconfig: existsSync(join(root, 'tsconfig.json')) ? join(root, 'tsconfig.json') : undefined,
      logLevel: 'silent',
    });
    for (const link of ['native', 'bin']) if (existsSync(join(root, link))) symlinkSync(join('..', '..', link), join(tmp, link));
    writeFileSync(join(tmp, MARKER), `${files.length} files compiled from ${root}\n`);
    try {
      renameSync(tmp, out);
      log?.(`compiled ${files.length} TypeScript files to ${relative(root, out)} in ${Date.now() - started} ms`);
    } catch (e) {
      // another process renamed its identical build into place first
      if (!existsSync(marker)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  prune(distRoot, fp);
  return pathToFileURL(join(out, entry)).href;
}

/** esbuild's version, from its package.json (what `esbuild.version` says, without loading esbuild). */
function esbuildVersion() {
  return createRequire(import.meta.url)('esbuild/package.json').version;
}

function touch(file) {
  try {
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // a read-only install still runs; only pruning is less exact
  }
}

/** Removes builds other than `current` that are not among the KEEP most recently used and unused for UNUSED_MS. */
function prune(distRoot, current) {
  const now = Date.now();
  const names = readdirSync(distRoot);
  // private directories of builds that were killed before their rename
  for (const d of names) if (d.startsWith('.tmp-') && now - mtimeOr0(join(distRoot, d)) > UNUSED_MS) rmSync(join(distRoot, d), { recursive: true, force: true });
  const builds = names
    .filter((d) => d !== current && !d.startsWith('.'))
    .map((d) => ({ d, used: mtimeOr0(join(distRoot, d, MARKER)) }))
    .sort((a, b) => b.used - a.used);
  for (const { d, used } of builds.slice(KEEP - 1)) if (now - used > UNUSED_MS) rmSync(join(distRoot, d), { recursive: true, force: true });
}

function mtimeOr0(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

// `node bin/compile.mjs` (npm's install step): build now, so that the first start does not.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await compiledEntry({ log: (m) => console.log(`iotchain: ${m}`) });
    console.log('iotchain: compiled JavaScript is up to date');
  } catch (e) {
    console.log(`iotchain: not compiled (${e instanceof Error ? e.message : String(e)}); the node will run its TypeScript through tsx`);
  }
}
