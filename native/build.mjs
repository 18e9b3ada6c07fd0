// npm's install step for the optional P-256 verifier (native/p256verify.c). It compiles the addon
// with node-gyp against the running Node's own headers (<prefix>/include/node, or npm's nodedir
// setting) and never fails the install: without a compiler or headers it says so, and
// crypto/sign.ts verifies P-256 through node:crypto instead (same answers, ~8 % more validator CPU
// per tx). IOTCHAIN_NATIVE=0 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const say = (msg) => console.log(`iotchain native P-256 verifier: ${msg}`);

function main() {
  if (process.env.IOTCHAIN_NATIVE === '0') return say('skipped (IOTCHAIN_NATIVE=0); node:crypto will verify');
  const nodedir = process.env.npm_config_nodedir || dirname(dirname(process.execPath));
  if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h')) || !existsSync(join(nodedir, 'include', 'node', 'openssl', 'ec.h'))) {
    return say(`not built: no Node.js headers under ${nodedir}/include/node; node:crypto will verify`);
  }
  rmSync(join(here, 'build'), { recursive: true, force: true });
  // npm puts its own node-gyp on PATH for install scripts
  const r = spawnSync('node-gyp', ['rebuild', `--nodedir=${nodedir}`], { cwd: here, encoding: 'utf8', shell: process.platform === 'win32' });
  if (r.status === 0 && existsSync(join(here, 'build', 'Release', 'p256verify.node'))) return say('built');
  const why = r.error ? r.error.message : (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ');
  say(`not built (${why}); node:crypto will verify`);
}

main();
