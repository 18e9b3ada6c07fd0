// bin/compile.mjs: the node runs as JavaScript compiled from its sources into dist/<fingerprint>/.
// A throwaway package (tsconfig, two source folders, a native/ folder) stands in for the repository.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledEntry } from '../../../bin/compile.mjs';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');

async function fakePackage(t: Test): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'iotchain-compile-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'lib'));
  await mkdir(join(root, 'cli'));
  await mkdir(join(root, 'native'));
  await writeFile(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true } }));
  await writeFile(join(root, 'lib', 'greet.ts'), 'export interface Who { name: string }\nexport const greet = (w: Who): string => `hello ${w.name}`;\n');
  await writeFile(join(root, 'lib', 'types.d.ts'), 'export type Unused = number;\n');
  await writeFile(join(root, 'native', 'addon.txt'), 'native\n');
  await writeFile(
    join(root, 'cli', 'main.ts'),
    [
      "import { readFileSync } from 'node:fs';",
      "import { greet, type Who } from '../lib/greet.js';",
      "const w: Who = { name: 'iot' };",
      "const native = readFileSync(new URL('../native/addon.txt', import.meta.url), 'utf8').trim();",
      'console.log(greet(w), native);',
      '',
    ].join('\n'),
  );
  return root;
}

const builds = (root: string): string[] => (existsSync(join(root, 'dist')) ? readdirSync(join(root, 'dist')).sort() : []);

t.test('compiles the sources once into dist/<fingerprint>/ and runs from there, native/ reachable', async (t) => {
  const root = await fakePackage(t);
  const logs: string[] = [];
  const url = await compiledEntry({ root, dirs: ['lib', 'cli'], log: (m) => logs.push(m) });
  const main = fileURLToPath(url);
  t.match(main, new RegExp(`^${join(root, 'dist')}/[0-9a-f]{16}/cli/main\\.js$`));
  t.match(logs, [/compiled 2 TypeScript files to dist\/[0-9a-f]{16}/], 'the .d.ts is not a source');
  const js = readFileSync(join(dirname(main), '..', 'lib', 'greet.js'), 'utf8');
  t.notMatch(js, /interface|: string|: Who/, 'types are stripped');
  t.equal((await run(process.execPath, [main])).stdout, 'hello iot native\n');
  // the second call finds the finished build and does not write it again
  const mtime = statSync(main).mtimeMs;
  logs.length = 0;
  t.equal(await compiledEntry({ root, dirs: ['lib', 'cli'], log: (m) => logs.push(m) }), url);
  t.same(logs, []);
  t.equal(statSync(main).mtimeMs, mtime);
  t.same(builds(root).filter((d) => d.startsWith('.')), [], 'no private build directory is left');
});

t.test('an edited source gets a new build (the output is never stale)', async (t) => {
  const root = await fakePackage(t);
  const first = await compiledEntry({ root, dirs: ['lib', 'cli'] });
  await writeFile(join(root, 'lib', 'greet.ts'), 'export interface Who { name: string }\nexport const greet = (w: Who): string => `bye ${w.name}`;\n');
  const second = await compiledEntry({ root, dirs: ['lib', 'cli'] });
  t.not(second, first);
  t.equal((await run(process.execPath, [fileURLToPath(second)])).stdout, 'bye iot native\n');
  t.equal((await run(process.execPath, [fileURLToPath(first)])).stdout, 'hello iot native\n', 'a build still in use is kept');
  // tsconfig.json is part of the fingerprint too
  await writeFile(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext' } }));
  t.not(await compiledEntry({ root, dirs: ['lib', 'cli'] }), second);
});

t.test('builds started together (a devnet, parallel tests) all get the same complete output', async (t) => {
  const root = await fakePackage(t);
  const urls = await Promise.all([1, 2, 3, 4].map(() => compiledEntry({ root, dirs: ['lib', 'cli'] })));
  t.equal(new Set(urls).size, 1);
  t.equal(builds(root).length, 1, `one build, no leftovers: ${builds(root).join(', ')}`);
  t.equal((await run(process.execPath, [fileURLToPath(urls[0]!)])).stdout, 'hello iot native\n');
});

t.test('a source that does not parse fails the build with its file named and leaves nothing behind', async (t) => {
  const root = await fakePackage(t);
  await writeFile(join(root, 'lib', 'broken.ts'), 'export const x = (;\n');
  await t.rejects(compiledEntry({ root, dirs: ['lib', 'cli'] }), /broken\.ts/);
  t.same(builds(root), [], 'no build and no private directory');
});

t.test('old builds unused for an hour are removed, the most recently used ones kept', async (t) => {
  const root = await fakePackage(t);
  const dist = join(root, 'dist');
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
  const fake = async (name: string, usedHoursAgo: number) => {
    await mkdir(join(dist, name), { recursive: true });
    await writeFile(join(dist, name, '.complete'), '');
    utimesSync(join(dist, name, '.complete'), hoursAgo(usedHoursAgo), hoursAgo(usedHoursAgo));
  };
  await fake('aaaaaaaaaaaaaaa1', 0); // used just now: kept
  await fake('aaaaaaaaaaaaaaa2', 2); // the next most recent: kept (3 builds are kept however old)
  await fake('aaaaaaaaaaaaaaa3', 3);
  await fake('aaaaaaaaaaaaaaa4', 30);
  await mkdir(join(dist, '.tmp-1-dead'));
  utimesSync(join(dist, '.tmp-1-dead'), hoursAgo(2), hoursAgo(2));
  await mkdir(join(dist, '.tmp-2-live')); // another process building right now
  const url = await compiledEntry({ root, dirs: ['lib', 'cli'] });
  const current = fileURLToPath(url).slice(dist.length + 1, dist.length + 17);
  t.same(builds(root), ['.tmp-2-live', current, 'aaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaa2'].sort());
});

t.test('bin/iotchain.js runs the compiled CLI, and the TypeScript through tsx with IOTCHAIN_TSX=1', async (t) => {
  const bin = join(ROOT, 'bin', 'iotchain.js');
  const compiled = await run(process.execPath, [bin, '--version']);
  const tsx = await run(process.execPath, [bin, '--version'], { env: { ...process.env, IOTCHAIN_TSX: '1' } });
  t.match(compiled.stdout, /^\d+\.\d+\.\d+/);
  t.equal(compiled.stdout, tsx.stdout);
  t.equal(compiled.stderr, '', 'no fallback warning: the compiled entry was used');
});

t.test("no source imports a '.ts' path (the compiled output would import a file that is not there)", async (t) => {
  const { SOURCE_DIRS } = await import('../../../bin/compile.mjs');
  const bad: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const src = readFileSync(p, 'utf8');
        if (/(?:from\s+|import\s*\(\s*)['"]\.{1,2}\/[^'"]*\.ts['"]/.test(src)) bad.push(p.slice(ROOT.length + 1));
      }
    }
  };
  for (const d of SOURCE_DIRS) walk(join(ROOT, d));
  t.same(bad, []);
});
