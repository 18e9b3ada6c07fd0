// `iotchain identity …` and `iotchain name …` driven in-process against a real in-process node
// (node/home.ts + node/node.ts) with fast identity parameters: register → show, name register →
// resolve (proven), update → history, close → resolve refuses, and the failures with clear errors.
import '../../../lib/polyfill.js';
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { initHome } from '../../../node/home.js';
import { createNode } from '../../../node/node.js';
import { paths } from '../../../node/config.js';
import { registerKeyCommands } from '../../../cli/commands/keys.js';
import { registerClientCommands } from '../../../cli/commands/client.js';
import { registerIdentityCommands } from '../../../cli/commands/identity.js';
import { registerNameCommands } from '../../../cli/commands/name.js';
import { runCli, TEST_SCRYPT_N, type CliRun, type RegisterCommands } from './helpers.js';
import { defaultModules, indexModules } from '../../../protocols/registry.js';
import { loadNameCommitment } from '../../../protocols/identity/client.js';
import { fromHex } from '../../../lib/hex.js';

const CHAIN = 'identity-cli-test';
const modules = indexModules(defaultModules());

const identityCommands: RegisterCommands = (program, io) => {
  registerKeyCommands(program, { io, scryptN: TEST_SCRYPT_N });
  registerClientCommands(program, { io, modules });
  registerIdentityCommands(program, { io, modules, scryptN: TEST_SCRYPT_N, pollMs: 20 });
  registerNameCommands(program, { io, modules, scryptN: TEST_SCRYPT_N, pollMs: 20 });
};
const cli = (...args: string[]): Promise<CliRun> => runCli(args, identityCommands);

/** One `error: …` line on stderr, nothing on stdout, exit 1. */
function userError(t: Test, r: CliRun, re: RegExp, what: string): void {
  t.equal(r.exitCode, 1, `${what}: exit 1`);
  t.equal(r.out, '', `${what}: nothing on stdout`);
  const l = r.err.trim().split('\n');
  t.equal(l.length, 1, `${what}: one line on stderr: ${r.err}`);
  t.match(l[0], /^error: /, `${what}: starts with "error: "`);
  t.match(l[0], re, what);
}

interface KeyDir {
  dir: string;
  online: string;
  offline: string;
  flags: string[];
}

async function keyDir(root: string, label: string, passphraseFile?: string): Promise<KeyDir> {
  const dir = join(root, label);
  const pass = passphraseFile ? ['--passphrase-file', passphraseFile] : ['--insecure'];
  const r = await cli('keys', 'new', '--out', dir, ...pass, '--json');
  if (r.exitCode !== 0) throw new Error(r.err);
  const j = r.json() as { online: { address: string }; offline: { address: string } };
  return { dir, online: j.online.address, offline: j.offline.address, flags: ['--keys', dir, ...pass] };
}

const FAST_IDENTITY = {
  minCommitAgeMs: 300,
  maxCommitAgeMs: 600_000,
  namePeriodMs: 86_400_000,
  nameFeePerPeriod: '10',
  maxPeriods: 5,
  nameGraceMs: 60_000,
  minBet: '1',
  unbondingMs: 1_000,
  incentivePeriodMs: 10_000,
  closePenaltyPoints: 1,
  closePenaltyPerAmount: '1000',
  trustUnit: '100',
};

t.test('identity and name commands against an in-process node', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'iotchain-identity-cli-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const passFile = join(root, 'pass.txt');
  await writeFile(passFile, 'correct horse\n');
  const wrongPass = join(root, 'wrong.txt');
  await writeFile(wrongPass, 'battery staple\n');

  const alice = await keyDir(root, 'alice');
  const bob = await keyDir(root, 'bob');
  const carol = await keyDir(root, 'carol'); // never registered
  const poor = await keyDir(root, 'poor'); // registered, cannot pay a name
  const dave = await keyDir(root, 'dave', passFile); // encrypted key files

  const home = join(root, 'node');
  await initHome({
    home,
    chainId: CHAIN,
    rpcPort: 0,
    fund: [`${alice.offline}=1000000`, `${bob.offline}=1000000`, `${dave.offline}=1000000`, `${poor.offline}=5`],
  });
  const config = JSON.parse(await readFile(paths(home).config, 'utf8')) as { consensus: { emptyBlockIntervalMs: number } };
  config.consensus.emptyBlockIntervalMs = 50;
  await writeFile(paths(home).config, JSON.stringify(config, null, 2));
  const genesis = JSON.parse(await readFile(paths(home).genesis, 'utf8')) as { modules: Record<string, unknown> };
  genesis.modules.identity = { params: FAST_IDENTITY };
  await writeFile(paths(home).genesis, JSON.stringify(genesis, null, 2));
  const node = await createNode({ home, logger: pino({ level: 'silent' }), config: { metrics: { host: '127.0.0.1', port: -1 } } });
  await node.start();
  t.teardown(() => node.stop());
  const rpc = ['--rpc', node.rpcUrl!];

  await t.test('identity register → show (plain, proven by the RPC validators and by the genesis file)', async (t) => {
    const r = await cli('identity', 'register', ...alice.flags, ...rpc, '--wait', '--json');
    t.equal(r.exitCode, 0, r.err + r.out);
    const j = r.json();
    t.equal(j.status, 'committed');
    t.equal(j.method, 'identity/submitPublicKey');
    t.equal(j.offline, alice.offline);
    t.equal(j.online, alice.online);
    t.equal(j.alreadyRegistered, false);
    t.type(j.height, 'number');

    const again = await cli('identity', 'register', ...alice.flags, ...rpc, '--wait', '--json');
    t.equal(again.exitCode, 0, 'registering the same key again is a no-op');
    t.equal(again.json().alreadyRegistered, true);

    for (const k of [bob, poor]) {
      const b = await cli('identity', 'register', ...k.flags, ...rpc, '--wait');
      t.equal(b.exitCode, 0, b.err);
      t.match(b.out, /committed at height \d+/);
    }

    const show = await cli('identity', 'show', alice.offline, ...rpc, '--json');
    t.equal(show.exitCode, 0, show.err);
    const s = show.json();
    t.equal(s.registered, true);
    t.equal((s.online as string).toLowerCase(), alice.online.toLowerCase());
    t.equal(s.verified, false);
    t.equal((s.history as unknown[]).length, 1);

    const byOnline = await cli('identity', 'show', alice.online, ...rpc, '--prove', '--json');
    t.equal(byOnline.exitCode, 0, byOnline.err);
    const p = byOnline.json();
    t.equal((p.offline as string).toLowerCase(), alice.offline.toLowerCase(), 'an online key shows its identity');
    t.equal(p.verified, true);
    t.equal(p.trust, 'rpc-validators');
    t.equal(p.queriedKeyState, 'active');

    const anchored = await cli('identity', 'show', alice.offline, ...rpc, '--prove', '--genesis', paths(home).genesis);
    t.equal(anchored.exitCode, 0, anchored.err);
    t.match(anchored.out, /verified:\s+yes at height \d+ \(trust: validators of .*genesis\.json\)/);
    t.match(anchored.out, /state:\s+active \(registered at height \d+\)/);
  });

  await t.test('failures of an unregistered identity', async (t) => {
    userError(t, await cli('identity', 'show', carol.offline, ...rpc), /is neither a registered identity nor one of its online keys/, 'show');
    userError(t, await cli('identity', 'close', ...carol.flags, ...rpc, '--wait'), /IDENTITY_NOT_REGISTERED: .*has no registered identity/, 'close (refused on chain)');
    userError(t, await cli('identity', 'incentive', '--amount', '5', ...carol.flags, ...rpc, '--wait'), /IDENTITY_NOT_REGISTERED/, 'incentive');
    userError(t, await cli('name', 'register', 'carol.iot', '--ip', '10.0.0.3', ...carol.flags, ...rpc, '--wait'), /has no registered identity: register its online key first/, 'name register (checked before any commit)');
    t.notOk(existsSync(join(carol.dir, 'names')), 'no commitment was made');
    userError(t, await cli('identity', 'vouch', carol.offline, '--bet', '5', ...alice.flags, ...rpc, '--wait'), /neither a registered identity nor one of its online keys/, 'vouch for nobody');

    const j = await cli('identity', 'close', ...carol.flags, ...rpc, '--wait', '--json');
    t.equal(j.exitCode, 1);
    const e = j.json();
    t.equal((e.error as { code: string }).code, 'IDENTITY_NOT_REGISTERED');
    t.equal(e.status, 'failed', 'the JSON failure carries the tx status');
    t.type(e.hash, 'string');
  });

  await t.test('wrong passphrase, missing passphrase, bad flags', async (t) => {
    userError(t, await cli('identity', 'register', '--keys', dave.dir, '--passphrase-file', wrongPass, ...rpc, '--wait'), /wrong passphrase/, 'wrong passphrase');
    userError(t, await cli('identity', 'register', '--keys', dave.dir, '--insecure', ...rpc, '--wait'), /is encrypted: give --passphrase-file/, 'encrypted files with --insecure');
    userError(t, await cli('identity', 'register', '--keys', dave.dir, '--passphrase-file', passFile, '--insecure', ...rpc), /either --passphrase-file or --insecure/, 'both');
    userError(t, await cli('identity', 'register', ...rpc), /missing --keys KEYDIR/, 'no KEYDIR');
    userError(t, await cli('identity', 'vouch', 'nonsense', '--bet', '1', ...alice.flags, ...rpc), /ADDR/, 'bad address');
    userError(t, await cli('identity', 'incentive', '--amount', '-3', ...alice.flags, ...rpc), /--amount must be a decimal amount/, 'bad amount');
    userError(t, await cli('name', 'register', 'Bad_Name', '--ip', '10.0.0.1', ...alice.flags, ...rpc), /IDENTITY_BAD_NAME|bad name/, 'bad name');
    userError(t, await cli('name', 'register', 'good.iot', '--ip', '10.0.0.256', ...alice.flags, ...rpc), /bad ip/, 'bad ip');
    const r = await cli('identity', 'register', '--keys', dave.dir, '--passphrase-file', passFile, ...rpc, '--wait', '--json');
    t.equal(r.exitCode, 0, 'the right passphrase works');
    t.equal(r.json().status, 'committed');
  });

  await t.test('name register (commit, wait the minimum age, reveal) → resolve (proven)', async (t) => {
    const r = await cli('name', 'register', 'alice.iot', '--ip', '10.0.0.1:8443', ...alice.flags, ...rpc, '--wait');
    t.equal(r.exitCode, 0, r.err + r.out);
    t.match(r.err, /committing 0x[0-9a-f]{64}/, 'progress on stderr');
    t.match(r.err, /revealing/);
    t.match(r.out, /name:\s+alice\.iot → 10\.0\.0\.1:8443/);
    t.match(r.out, /expires:\s+\d{4}-/);
    t.notOk(existsSync(join(alice.dir, 'names', CHAIN, 'alice.iot.json')), 'the salt file is removed once revealed');

    const res = await cli('name', 'resolve', 'alice.iot', ...rpc, '--json');
    t.equal(res.exitCode, 0, res.err);
    const j = res.json();
    t.equal(j.ip, '10.0.0.1:8443');
    t.equal((j.owner as string).toLowerCase(), alice.offline.toLowerCase());
    t.equal(j.verified, true, 'proven by default');
    t.equal(j.trust, 'rpc-validators');

    const human = await cli('name', 'resolve', 'alice.iot', ...rpc, '--prove', '--genesis', paths(home).genesis);
    t.equal(human.exitCode, 0, human.err);
    t.match(human.out, /ip:\s+10\.0\.0\.1:8443/);
    t.match(human.out, /verified:\s+yes at height \d+ \(trust: validators of .*genesis\.json\)/);

    const plain = await cli('name', 'resolve', 'alice.iot', ...rpc, '--no-prove', '--json');
    t.equal(plain.exitCode, 0, plain.err);
    t.equal(plain.json().verified, false);

    userError(t, await cli('name', 'resolve', 'nobody.iot', ...rpc), /IDENTITY_NAME_NOT_FOUND|name nobody\.iot is not registered/, 'unregistered name: exit 1');

    const again = await cli('name', 'register', 'alice.iot', '--ip', '10.0.0.1:8443', ...alice.flags, ...rpc, '--wait', '--json');
    t.equal(again.exitCode, 0, 'registering an own active name again is a no-op');
    t.equal(again.json().alreadyRegistered, true);

    const renew = await cli('name', 'renew', 'alice.iot', '--periods', '2', ...alice.flags, ...rpc, '--wait', '--json');
    t.equal(renew.exitCode, 0, renew.err + renew.out);
    const rn = renew.json();
    t.equal(rn.status, 'committed');
    t.equal(rn.expires, (j.expires as number) + 2 * FAST_IDENTITY.namePeriodMs, 'renewal extends the expiry by two periods');
  });

  await t.test('name taken, missing funds', async (t) => {
    userError(t, await cli('name', 'register', 'alice.iot', '--ip', '10.0.0.2', ...bob.flags, ...rpc, '--wait'), /name alice\.iot is taken: owner 0x/, 'taken (checked before committing)');
    t.notOk(existsSync(join(bob.dir, 'names')), 'bob made no commitment');
    const j = await cli('name', 'commit', 'alice.iot', ...bob.flags, ...rpc, '--wait', '--json');
    t.equal(j.exitCode, 1);
    t.equal((j.json().error as { code: string }).code, 'IDENTITY_NAME_TAKEN');

    userError(t, await cli('name', 'register', 'poor.iot', '--ip', '10.0.0.5', ...poor.flags, ...rpc, '--wait'), /holds 5, registering poor\.iot for 1 period\(s\) .* needs 10/, 'cannot pay the name fee');
    t.notOk(existsSync(join(poor.dir, 'names')), 'no commitment was paid for');
    userError(t, await cli('identity', 'vouch', alice.offline, '--bet', '6', ...poor.flags, ...rpc, '--wait'), /BANK_INSUFFICIENT_FUNDS/, 'a bet above the balance fails on chain');
    userError(t, await cli('identity', 'incentive', '--amount', '100', ...poor.flags, ...rpc, '--wait'), /BANK_INSUFFICIENT_FUNDS/, 'an incentive above the balance fails on chain');
  });

  await t.test('vouch (by offline address) and incentive', async (t) => {
    const v = await cli('identity', 'vouch', alice.offline, '--bet', '250', ...bob.flags, ...rpc, '--wait', '--json');
    t.equal(v.exitCode, 0, v.err + v.out);
    const j = v.json();
    t.equal((j.online as string).toLowerCase(), alice.online.toLowerCase(), 'the offline address is mapped to the current online key');
    const inc = await cli('identity', 'incentive', '--amount', '100', ...alice.flags, ...rpc, '--wait');
    t.equal(inc.exitCode, 0, inc.err);
    t.match(inc.out, /100 escrowed for the vouchers of/);
    const show = (await cli('identity', 'show', alice.offline, ...rpc, '--json')).json();
    t.same(show.vouches, { stake: '250', vouchers: 1, level: 2, incentivePool: '100' }, 'trust level = bit length of 250 / 100');
    userError(t, await cli('identity', 'vouch', alice.online, '--bet', '1', ...alice.flags, ...rpc, '--wait'), /IDENTITY_SELF_VOUCH/, 'self-vouch refused on chain');
  });

  await t.test('name commit, then an interrupted register resumes with the saved salt', async (t) => {
    const c = await cli('name', 'commit', 'bob.iot', ...bob.flags, ...rpc, '--wait', '--json');
    t.equal(c.exitCode, 0, c.err + c.out);
    const cj = c.json();
    t.equal(cj.resumed, false);
    const saved = await loadNameCommitment(bob.dir, CHAIN, 'bob.iot', fromHex(bob.offline, 'bob', 20));
    t.ok(saved, 'the salt is kept next to the keys');
    t.equal(saved?.commitment, cj.commitment);

    const again = await cli('name', 'commit', 'bob.iot', ...bob.flags, ...rpc, '--wait', '--json');
    t.equal(again.exitCode, 0);
    t.equal(again.json().resumed, true, 'a second commit reuses the live commitment');
    t.equal(again.json().commitment, cj.commitment);

    const r = await cli('name', 'register', 'bob.iot', '--ip', '[2001:db8::1]:443', ...bob.flags, ...rpc, '--wait', '--json');
    t.equal(r.exitCode, 0, r.err + r.out);
    const rj = r.json();
    t.equal(rj.resumed, true);
    t.equal(rj.commitment, cj.commitment, 'revealed the saved commitment, no new commit');
    t.equal(rj.commitTx, null);
    t.equal(rj.status, 'committed');
    const res = (await cli('name', 'resolve', 'bob.iot', ...rpc, '--json')).json();
    t.equal(res.ip, '[2001:db8::1]:443');
    t.same(await readdir(join(bob.dir, 'names', CHAIN)), [], 'the salt file is gone');
  });

  await t.test('a commit sent without --wait is picked up by register', async (t) => {
    const c = await cli('name', 'commit', 'bob-two.iot', ...bob.flags, ...rpc, '--json');
    t.equal(c.exitCode, 0, c.err + c.out);
    const cj = c.json();
    t.equal(cj.status, 'pending');
    t.equal(cj.revealFrom, null);
    const r = await cli('name', 'register', 'bob-two.iot', '--ip', '192.168.1.7', ...bob.flags, ...rpc, '--wait');
    t.equal(r.exitCode, 0, r.err + r.out);
    t.match(r.err, new RegExp(`resuming commitment ${cj.commitment as string}`));
    t.match(r.out, /bob-two\.iot → 192\.168\.1\.7/);
  });

  await t.test('identity update → KEYDIR holds the new key, history shows the old one revoked at a height', async (t) => {
    const newFile = join(root, 'alice-new-online.json');
    const u = await cli('identity', 'update', ...alice.flags, '--new-online', newFile, ...rpc, '--wait', '--json');
    t.equal(u.exitCode, 0, u.err + u.out);
    const j = u.json();
    t.equal(j.status, 'committed');
    t.equal(j.generated, true);
    t.equal(j.installed, true);
    t.equal(j.previous, alice.online);
    const at = j.height as number;
    t.equal(j.revokedAt, at);
    const installed = JSON.parse(await readFile(join(alice.dir, 'online.json'), 'utf8')) as { address: string };
    t.equal(installed.address, j.online, 'KEYDIR/online.json is the new key');
    t.ok(existsSync(join(alice.dir, 'revoked', `online-${alice.online}.json`)), 'the old key file is kept');

    const show = await cli('identity', 'show', alice.offline, ...rpc, '--prove', '--json');
    t.equal(show.exitCode, 0, show.err);
    const s = show.json();
    const h = s.history as { online: string; from: number; to: number | null }[];
    t.equal(h.length, 2);
    t.equal(h[0]!.online.toLowerCase(), alice.online.toLowerCase());
    t.equal(h[0]!.to, at, 'the old key is revoked as of the update height');
    t.equal(h[1]!.from, at);
    t.equal(h[1]!.to, null);
    const human = await cli('identity', 'show', alice.online, ...rpc);
    t.match(human.out, /queried key:\s+0x[0-9a-f]{40}: revoked/);
    t.match(human.out, new RegExp(`revoked at ${at}\\)`));

    userError(t, await cli('identity', 'update', ...alice.flags, '--new-online', join(alice.dir, 'online.json'), ...rpc, '--wait'), /holds the current online key/, 'the current key is not a new key');
    const reuse = await cli('identity', 'update', ...alice.flags, '--new-online', join(alice.dir, 'revoked', `online-${alice.online}.json`), ...rpc, '--wait');
    userError(t, reuse, /IDENTITY_KEY_TAKEN: .*never reused/, 'a revoked key cannot come back');

    const still = (await cli('name', 'resolve', 'alice.iot', ...rpc, '--json')).json();
    t.equal(still.ip, '10.0.0.1:8443', 'the name stays with the identity across a key rotation');
  });

  await t.test('identity close → name resolve refuses, show says closed', async (t) => {
    const c = await cli('identity', 'close', ...alice.flags, ...rpc, '--wait', '--json');
    t.equal(c.exitCode, 0, c.err + c.out);
    const at = c.json().closedAt as number;
    t.type(at, 'number');
    userError(t, await cli('name', 'resolve', 'alice.iot', ...rpc), /name alice\.iot does not resolve: its owner 0x[0-9a-f]{40} closed its identity/, 'resolve refuses');
    const j = await cli('name', 'resolve', 'alice.iot', ...rpc, '--json');
    t.equal(j.exitCode, 1);
    t.equal((j.json().error as { code: string }).code, 'IDENTITY_CLOSED');
    const show = await cli('identity', 'show', alice.offline, ...rpc);
    t.equal(show.exitCode, 0);
    t.match(show.out, new RegExp(`state:\\s+closed at height ${at}`));
    userError(t, await cli('identity', 'close', ...alice.flags, ...rpc, '--wait'), /IDENTITY_CLOSED/, 'closing twice');
    userError(t, await cli('identity', 'vouch', alice.offline, '--bet', '1', ...bob.flags, ...rpc, '--wait'), /was closed at height/, 'vouching for a closed identity');
  });
});
