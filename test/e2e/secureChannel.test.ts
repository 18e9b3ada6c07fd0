// The data-in-transit story of issue 4 end to end, with real processes only: a 1-validator devnet
// node (`iotchain start`), and every step through the shipped CLI (`bin/iotchain.js`):
//   gateway and service keys, funded from the faucet;
//   the gateway registers its identity and name, self-signs a certificate, serves over TLS 1.3;
//   the service resolves (proven against the genesis validators), verifies the certificate through
//   the chain, connects and votes; the gateway's reputation changes;
//   after `identity update` the old certificate is refused (cert verify, and channel connect to the
//   gateway still serving it);
//   after `identity close` the name no longer resolves.
// The devnet layout is made with node/home.ts initNetwork (what `iotchain devnet` runs on creation)
// so that the config and genesis can be tuned before the node first starts (empty blocks every
// 50 ms, a 300 ms commit–reveal age instead of a minute); the node runs as `iotchain start --home`.
// Every process is stopped in one teardown, even on failure; waits are on output or bounded.
import '../../lib/polyfill.js';
import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNetwork } from '../../node/home.js';
import { paths } from '../../node/config.js';
import { generateKeyPair, addressOf, toChecksumAddress, KeyType } from '../../crypto/keys.js';
import { saveKeyFile } from '../../crypto/keystore.js';
import { Proc, runCli, freePortBlock, type CliResult } from '../utils/proc.js';

const CHAIN = 'secure-channel-e2e';
const NAME = 'gateway.iot';

type Json = Record<string, unknown>;

interface Run extends CliResult {
  args: string[];
  /** stdout parsed as JSON (every command here runs with --json), or undefined. */
  json: Json | undefined;
}

/** `iotchain ARGS` as a process (killed after 4 min: a bound, not a timing); stdout parsed as JSON when it is. */
async function iotchain(args: string[]): Promise<Run> {
  const r = await runCli(args, 240_000);
  let json: Run['json'];
  try {
    json = JSON.parse(r.stdout) as Run['json'];
  } catch {
    json = undefined;
  }
  return { ...r, args, json };
}

/** Asserts the exit code; a step that the rest depends on throws (the teardown still runs). */
function expectExit(t: Test, r: Run, code: number, what: string, context: () => string = () => ''): Json {
  const detail = `\n$ iotchain ${r.args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr.slice(-3000)}${context()}`;
  if (!t.equal(r.code, code, `${what} exits ${code}`, { diagnostic: r.code !== code })) throw new Error(`${what}: exit ${r.code}, expected ${code}${detail}`);
  if (r.json === undefined && code === 0) throw new Error(`${what}: stdout is not JSON${detail}`);
  return r.json ?? {};
}

/** Awaits every promise even when one fails (so no CLI process is left running), then rethrows. */
async function settle<T extends unknown[]>(...ps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<unknown>).value) as T;
}

/** The JSON object `channel serve --json` prints once it listens. */
function servingLine(out: string): { serving: boolean; name: string; chainId: string; host: string; port: number; online: { address: string } } {
  const m = /\{"serving":true[^\n]*/.exec(out);
  if (!m) throw new Error(`no serving line in: ${out}`);
  return JSON.parse(m[0]);
}

t.test('secure channel on a devnet: register, name, certificate, TLS serve, resolve, verify, connect + vote, rotate → refused, close → unresolvable', async (t) => {
  const started = Date.now();
  const laps: string[] = [];
  const lap = (what: string) => void laps.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-secure-channel-'));
  const procs: Proc[] = [];
  t.teardown(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 10_000)));
    await rm(dir, { recursive: true, force: true });
  });
  const start = (args: string[]): Proc => {
    const p = new Proc(args);
    procs.push(p);
    return p;
  };

  // ---- the devnet: one validator, ports from a free block, tuned before its first start ----------
  const base = await freePortBlock(13);
  const net = join(dir, 'devnet');
  const faucet = generateKeyPair(KeyType.secp256k1);
  const faucetFile = join(net, 'faucet.json');
  const faucetAddr = toChecksumAddress(addressOf(faucet.type, faucet.publicKey));
  const { homes } = await initNetwork({ dir: net, validators: 1, chainId: CHAIN, rpcPort: base, p2pPort: base + 4, metricsPort: base + 8, fund: [`${faucetAddr}=1000000000000`] });
  await saveKeyFile(faucetFile, faucet, undefined);
  const home = homes[0]!;
  const genesisFile = paths(home).genesis;
  const config = JSON.parse(await readFile(paths(home).config, 'utf8')) as { consensus: { emptyBlockIntervalMs: number } };
  config.consensus.emptyBlockIntervalMs = 50;
  await writeFile(paths(home).config, JSON.stringify(config, null, 2));
  const genesis = JSON.parse(await readFile(genesisFile, 'utf8')) as { modules: Record<string, unknown> };
  genesis.modules.identity = { params: { minCommitAgeMs: 300 } };
  await writeFile(genesisFile, JSON.stringify(genesis, null, 2));
  const rpc = ['--rpc', `http://127.0.0.1:${base}`];
  // generous bounds for a loaded machine; nothing waits for them unless something is wrong
  const wait = ['--wait', '--timeout-ms', '120000'];
  const stepTimeout = ['--timeout-ms', '60000'];
  const tlsPort = base + 12;

  const node = start(['start', '--home', home]);
  const must = (r: Run, code: number, what: string): Json => expectExit(t, r, code, what, () => `\nnode (last lines):\n${node.out.split('\n').slice(-15).join('\n')}`);
  const gwDir = join(dir, 'gateway');
  const svcDir = join(dir, 'service');
  const gwKeys = ['--keys', gwDir, '--insecure'];
  const svcKeys = ['--keys', svcDir, '--insecure'];
  const certDir = join(dir, 'gateway-cert');
  const certPem = join(certDir, 'cert.pem');
  const reputation = () => iotchain(['query', 'reputation', 'getReputation', '--args', JSON.stringify({ name: NAME }), ...rpc, '--prove', '--genesis', genesisFile, '--json']);
  const reputationOf = (r: Run, label: string) => {
    const q = must(r, 0, `getReputation (${label})`);
    t.equal(q.verified, true, `reputation ${label} is proven against the genesis validators`);
    return q.value as { found: boolean; positives: number; negatives: number; score: string };
  };

  // ---- 1. keys (while the node starts), funding from the faucet ------------------------------------
  const [gwNew, svcNew] = await Promise.all([
    iotchain(['keys', 'new', '--out', gwDir, '--insecure', '--json']),
    iotchain(['keys', 'new', '--out', svcDir, '--insecure', '--json']),
  ]);
  const gw = must(gwNew, 0, 'keys new (gateway)') as { online: { address: string }; offline: { address: string } };
  const svc = must(svcNew, 0, 'keys new (service)') as { online: { address: string }; offline: { address: string } };
  // The certificate needs no chain (the chain id comes from the genesis file): it is made meanwhile.
  const certMade = iotchain(['cert', 'self-sign', '--name', NAME, ...gwKeys, '--out', certDir, '--genesis', genesisFile, '--json']);
  await settle(node.waitFor(/node started/, 180_000), certMade);
  lap('node started');

  // The gateway's identity pays the name fee; the service's online key signs (and pays the fee of)
  // the vote. Explicit faucet nonces, so the transfers go in parallel.
  const fund = [gw.offline.address, svc.offline.address, svc.online.address];
  const transfers = await Promise.all(
    fund.map((to, nonce) => iotchain(['transfer', '--key', faucetFile, '--insecure', '--to', to, '--amount', '1000000', '--nonce', String(nonce), ...rpc, ...wait, '--json'])),
  );
  lap('funded');
  for (const [i, tr] of transfers.entries()) t.equal(must(tr, 0, `transfer to ${fund[i]}`).status, 'committed');

  // ---- 2. the gateway: identity, name, certificate, TLS server (the service registers meanwhile) ----
  const cert = must(await certMade, 0, 'cert self-sign');
  t.match(cert, { name: NAME, mode: 'self', chainId: CHAIN, keyBinding: true, files: { 'cert.pem': certPem } });
  const serve = start(['channel', 'serve', '--name', NAME, '--cert', certPem, '--key', join(certDir, 'key.pem'), ...gwKeys, '--port', String(tlsPort), '--host', '127.0.0.1', '--json']);
  await settle(
    (async () => {
      const reg = must(await iotchain(['identity', 'register', ...gwKeys, ...rpc, ...wait, '--json']), 0, 'identity register (gateway)');
      t.match(reg, { offline: gw.offline.address, online: gw.online.address, status: 'committed' });
      const name = must(await iotchain(['name', 'register', NAME, '--ip', `127.0.0.1:${tlsPort}`, ...gwKeys, ...rpc, ...wait, '--json']), 0, 'name register');
      t.match(name, { name: NAME, ip: `127.0.0.1:${tlsPort}`, owner: new RegExp(`^${gw.offline.address}$`, 'i'), status: 'committed' });
    })(),
    (async () => {
      const reg = must(await iotchain(['identity', 'register', ...svcKeys, ...rpc, ...wait, '--json']), 0, 'identity register (service)');
      t.match(reg, { offline: svc.offline.address, online: svc.online.address, status: 'committed' });
    })(),
    serve.waitFor(/"serving":true[^\n]*\n/, 180_000),
  );
  lap('registered + serving');
  t.match(servingLine(serve.out), { name: NAME, chainId: CHAIN, host: '127.0.0.1', port: tlsPort, online: { address: new RegExp(`^${gw.online.address}$`, 'i') } });

  // ---- 3. the service: reputation before, resolve, verify, connect + vote, reputation after --------
  const [repBefore, resolved, verified] = await Promise.all([
    reputation(),
    iotchain(['name', 'resolve', NAME, '--prove', '--genesis', genesisFile, ...rpc, '--json']),
    iotchain(['cert', 'verify', '--cert', certPem, ...rpc, '--genesis', genesisFile, '--json']),
  ]);
  lap('resolved + verified');
  const before = reputationOf(repBefore, 'before');
  t.match(before, { found: true, positives: 0, negatives: 0, score: '0' }, 'a new name has no reputation yet');
  t.match(must(resolved, 0, 'name resolve'), { name: NAME, ip: `127.0.0.1:${tlsPort}`, owner: new RegExp(`^${gw.offline.address}$`, 'i'), verified: true, trust: 'genesis-file' });
  t.match(must(verified, 0, 'cert verify'), { valid: true, reasons: [], chain: { chainId: CHAIN, keyState: 'active', nameState: 'active', trust: 'genesis-file' } });

  const conn = must(await iotchain(['channel', 'connect', NAME, ...rpc, ...svcKeys, '--vote', '--genesis', genesisFile, ...stepTimeout, '--json']), 0, 'channel connect --vote');
  lap('connected + voted');
  t.match(conn, {
    connected: true,
    name: NAME,
    chainId: CHAIN,
    trust: 'genesis-file',
    keyState: 'active',
    endpoint: { host: '127.0.0.1', port: tlsPort },
    voter: svc.offline.address,
    proof: { clientRandom: /^0x[0-9a-f]{64}$/, exporterHash: /^0x[0-9a-f]{64}$/, signature: /^0x[0-9a-f]{128}$/ },
    vote: { status: 'committed' },
  });
  t.match((conn.payload as { text: string } | null)?.text, /gateway\.iot/, 'the gateway served its payload over the channel');

  // ---- 4. rotate the gateway's online key: the old certificate is refused ---------------------------
  // (reputation attaches to the offline identity, so reading it "after" may overlap the rotation)
  const [repAfter, updated] = await Promise.all([
    reputation(),
    iotchain(['identity', 'update', ...gwKeys, '--new-online', join(dir, 'gateway-online-2.json'), ...rpc, ...wait, '--json']),
  ]);
  lap('rotated');
  const after = reputationOf(repAfter, 'after');
  t.match(after, { found: true, positives: before.positives + 1, negatives: 0 }, 'the vote counted');
  t.ok(BigInt(after.score) > BigInt(before.score), `the score rose: ${before.score} → ${after.score}`);
  const update = must(updated, 0, 'identity update');
  t.match(update, { offline: gw.offline.address, previous: gw.online.address, generated: true, installed: true, status: 'committed', revokedAt: Number });
  t.not(update.online, gw.online.address, 'a new online key');
  const revokedAt = update.revokedAt as number;
  t.ok(serve.running, 'the gateway still serves the old certificate, with the old online key');
  const [oldCert, refused] = await Promise.all([
    iotchain(['cert', 'verify', '--cert', certPem, ...rpc, '--genesis', genesisFile, '--json']),
    iotchain(['channel', 'connect', NAME, ...rpc, ...svcKeys, '--genesis', genesisFile, ...stepTimeout, '--json']),
  ]);
  lap('old certificate refused');
  const revokedReason = { code: 'KEY_REVOKED', message: new RegExp(`^online key ${gw.online.address.toLowerCase()} was revoked at height ${revokedAt} `) };
  const v = must(oldCert, 1, 'cert verify of the old certificate');
  t.match(v, { valid: false, chain: { keyState: 'revoked' } });
  t.match(v.reasons, [revokedReason], 'the reason names the revoked key and the height of the update');
  const c = must(refused, 1, 'channel connect to the gateway serving the old certificate');
  t.match(c, { connected: false, name: NAME });
  const reasons = (c.reasons ?? []) as { code: string }[];
  t.match(
    reasons.find((r) => r.code === 'KEY_REVOKED'),
    revokedReason,
    `refused because the key is revoked: ${JSON.stringify(reasons)}`,
  );

  // ---- 5. close the gateway's identity: its name no longer resolves ---------------------------------
  const close = must(await iotchain(['identity', 'close', ...gwKeys, ...rpc, ...wait, '--json']), 0, 'identity close');
  t.match(close, { offline: gw.offline.address, status: 'committed', closedAt: Number });
  const gone = await iotchain(['name', 'resolve', NAME, '--prove', '--genesis', genesisFile, ...rpc]);
  lap('closed + unresolvable');
  must(gone, 1, 'name resolve after close');
  t.equal(gone.stdout, '', 'nothing on stdout');
  t.match(gone.stderr, new RegExp(`^error: name gateway\\.iot does not resolve: its owner ${gw.offline.address.toLowerCase()} closed its identity\\n$`));

  await serve.stop('SIGTERM');
  t.equal(serve.child.exitCode, 0, 'the gateway stops cleanly on SIGTERM');
  await node.stop('SIGTERM');
  t.equal(node.child.exitCode, 0, 'the node stops cleanly on SIGTERM');
  lap('stopped');
  t.comment(`secure-channel e2e: ${laps.join(', ')}`);
});
