// The identity and name commands as real processes against a node process: register a key,
// register a name (commit, wait, reveal), resolve it proven against the genesis validators, close
// the identity, and see the name refused. Every process is stopped in t.teardown.
import '../../lib/polyfill.js';
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initHome } from '../../node/home.js';
import { paths } from '../../node/config.js';
import { generateKeyPair, addressOf, toChecksumAddress } from '../../crypto/keys.js';
import { saveKeyDir } from '../../cli/keyFiles.js';
import { Proc, runCli, freePort } from '../utils/proc.js';

t.test('iotchain identity / name as processes: register, name register, resolve --genesis, close, resolve refuses', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-identity-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const keys = { online: generateKeyPair(), offline: generateKeyPair() };
  const keyDir = join(dir, 'gateway');
  await saveKeyDir(keyDir, keys, undefined);
  const offline = toChecksumAddress(addressOf(keys.offline.type, keys.offline.publicKey));

  const home = join(dir, 'node');
  const port = await freePort();
  await initHome({ home, chainId: 'identity-e2e', rpcPort: port, p2pPort: await freePort(), metricsPort: 0, fund: [`${offline}=100000`] });
  const config = JSON.parse(await readFile(paths(home).config, 'utf8')) as { consensus: { emptyBlockIntervalMs: number } };
  config.consensus.emptyBlockIntervalMs = 100;
  await writeFile(paths(home).config, JSON.stringify(config, null, 2));
  const genesis = JSON.parse(await readFile(paths(home).genesis, 'utf8')) as { modules: Record<string, unknown> };
  genesis.modules.identity = { params: { minCommitAgeMs: 500, nameFeePerPeriod: '10' } };
  await writeFile(paths(home).genesis, JSON.stringify(genesis, null, 2));

  const node = new Proc(['start', '--home', home]);
  t.teardown(() => node.stop('SIGKILL'));
  await node.waitFor(/node started/);
  const rpc = ['--rpc', `http://127.0.0.1:${port}`];
  const k = ['--keys', keyDir, '--insecure'];

  const reg = await runCli(['identity', 'register', ...k, ...rpc, '--wait', '--json']);
  t.equal(reg.code, 0, reg.stderr + reg.stdout);
  t.equal(JSON.parse(reg.stdout).status, 'committed');

  const name = await runCli(['name', 'register', 'gateway.iot', '--ip', '127.0.0.1:8443', ...k, ...rpc, '--wait']);
  t.equal(name.code, 0, name.stderr + name.stdout);
  t.match(name.stdout, /gateway\.iot → 127\.0\.0\.1:8443/);

  const res = await runCli(['name', 'resolve', 'gateway.iot', ...rpc, '--genesis', paths(home).genesis, '--json']);
  t.equal(res.code, 0, res.stderr);
  const r = JSON.parse(res.stdout) as Record<string, unknown>;
  t.equal(r.ip, '127.0.0.1:8443');
  t.equal(r.verified, true);
  t.equal(r.trust, 'genesis-file');

  const close = await runCli(['identity', 'close', ...k, ...rpc, '--wait']);
  t.equal(close.code, 0, close.stderr + close.stdout);

  const gone = await runCli(['name', 'resolve', 'gateway.iot', ...rpc]);
  t.equal(gone.code, 1, 'a name whose owner closed does not resolve');
  t.equal(gone.stdout, '');
  t.match(gone.stderr, /^error: name gateway\.iot does not resolve: its owner 0x[0-9a-f]{40} closed its identity\n$/);

  await node.stop('SIGTERM');
});
