// npm's install step for the optional addon (native/*.c: the P-256 verifier and the Merkle root). It
// compiles the addon with node-gyp against the running Node's own headers (<prefix>/include/node, or
// npm's nodedir setting) and never fails the install: without a compiler or headers it says so, and
// crypto/sign.ts verifies P-256 through node:crypto and crypto/merkle.ts hashes in JavaScript instead
// (same answers, more validator CPU per tx). IOTCHAIN_NATIVE=0 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const say = (msg) => console.log(`iotchain native addon (P-256 verify, Merkle root): ${msg}`);

function main() {
  if (process.env.IOTCHAIN_NATIVE === '0') return say('skipped (IOTCHAIN_NATIVE=0); JavaScript and node:crypto will do its work');
  const prefix = dirname(dirname(process.execPath)); // <prefix>/bin/node
  const nodedir = process.env.npm_config_nodedir || prefix;
  if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h')) || !existsSync(join(nodedir, 'include', 'node', 'openssl', 'ec.h'))) {
    return say(`not built: no Node.js headers under ${nodedir}/include/node; JavaScript and node:crypto will do its work`);
  }
  // npm's own node-gyp: named by npm in install scripts, else the copy next to this Node's npm, else PATH
  const script = [process.env.npm_config_node_gyp, join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find(
    (f) => f !== undefined && f.endsWith('.js') && existsSync(f),
  );
  const [cmd, args] = script ? [process.execPath, [script]] : ['node-gyp', []];
  const r = spawnSync(cmd, [...args, 'rebuild', `--nodedir=${nodedir}`], { cwd: here, encoding: 'utf8', shell: !script && process.platform === 'win32' });
  if (r.status === 0 && existsSync(join(here, 'build', 'Release', 'iotchain_native.node'))) return say('built');
  const why = r.error ? r.error.message : (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ');
  say(`not built (${why}); JavaScript and node:crypto will do its work`);
}

main();
