// `iotchain keys new` / `keys show` run in-process against temp directories.
import t from 'tap';
import { mkdtemp, rm, readFile, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeyFile, type KeyFile } from '../../../crypto/keystore.js';
import { addressOf, toChecksumAddress, KeyType } from '../../../crypto/keys.js';
import { runCli } from './helpers.js';

async function tempDir(t: { teardown(f: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-cli-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const NO_STACK = /\n\s+at /;

t.test('keys new --insecure writes two plain key files and prints both addresses', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'alice');
  const r = await runCli(['keys', 'new', '--out', out, '--insecure', '--json']);
  t.equal(r.exitCode, 0, r.err);
  const j = r.json() as { curve: string; encrypted: boolean; online: { address: string; file: string }; offline: { address: string; file: string } };
  t.equal(j.curve, 'secp256k1');
  t.equal(j.encrypted, false);
  t.not(j.online.address, j.offline.address, 'two different keys');
  for (const role of ['online', 'offline'] as const) {
    const file = join(out, `${role}.json`);
    t.equal(j[role].file, file);
    const f = JSON.parse(await readFile(file, 'utf8')) as KeyFile;
    t.equal(f.insecure, true);
    t.equal(f.address, j[role].address);
    const key = await loadKeyFile(file, undefined);
    t.equal(toChecksumAddress(addressOf(key.type, key.publicKey)), j[role].address, 'EIP-55 address of the key');
    t.equal((await stat(file)).mode & 0o777, 0o600, 'private file mode');
  }
  const human = await runCli(['keys', 'new', '--out', join(dir, 'bob'), '--insecure']);
  t.equal(human.exitCode, 0);
  t.match(human.out, /^online:\s+0x[0-9a-fA-F]{40}\s+\S+online\.json\noffline:\s+0x[0-9a-fA-F]{40}/);
});

t.test('keys new --passphrase-file encrypts; keys show checks the passphrase', async (t) => {
  const dir = await tempDir(t);
  const pass = join(dir, 'pass');
  await writeFile(pass, 'correct horse battery staple\n');
  const wrong = join(dir, 'wrong');
  await writeFile(wrong, 'incorrect\n');
  const out = join(dir, 'dev');
  const r = await runCli(['keys', 'new', '--out', out, '--curve', 'p256', '--passphrase-file', pass, '--json']);
  t.equal(r.exitCode, 0, r.err);
  const j = r.json() as { curve: string; encrypted: boolean; online: { address: string } };
  t.equal(j.curve, 'p256');
  t.equal(j.encrypted, true);
  const file = join(out, 'online.json');
  const f = JSON.parse(await readFile(file, 'utf8')) as KeyFile;
  t.notOk(f.insecure);
  t.notOk(f.privateKey, 'no plain private key in an encrypted file');
  t.equal(f.crypto?.kdf, 'scrypt');
  const key = await loadKeyFile(file, 'correct horse battery staple');
  t.equal(key.type, KeyType.p256);

  const show = await runCli(['keys', 'show', '--key', file, '--json']);
  t.equal(show.exitCode, 0, show.err);
  t.match(show.json(), { address: j.online.address, curve: 'p256', encrypted: true, passphraseOk: null });

  const ok = await runCli(['keys', 'show', '--key', file, '--passphrase-file', pass]);
  t.equal(ok.exitCode, 0, ok.err);
  t.match(ok.out, new RegExp(`address:\\s+${j.online.address}`));
  t.match(ok.out, /passphrase ok/);

  const bad = await runCli(['keys', 'show', '--key', file, '--passphrase-file', wrong]);
  t.equal(bad.exitCode, 1);
  t.match(bad.err, /^error: key file .*online\.json: wrong passphrase/);
  t.notMatch(bad.err, NO_STACK);
  const badJson = await runCli(['keys', 'show', '--key', file, '--passphrase-file', wrong, '--json']);
  t.equal(badJson.exitCode, 1);
  t.match(badJson.json(), { error: { code: 'KEY_WRONG_PASSPHRASE', message: /wrong passphrase/ } });

  const empty = join(dir, 'empty');
  await writeFile(empty, '\n');
  const e = await runCli(['keys', 'new', '--out', join(dir, 'x'), '--passphrase-file', empty]);
  t.equal(e.exitCode, 1);
  t.match(e.err, /passphrase file .* is empty/);
  const missing = await runCli(['keys', 'new', '--out', join(dir, 'y'), '--passphrase-file', join(dir, 'nope')]);
  t.equal(missing.exitCode, 1);
  t.match(missing.err, /cannot read passphrase file .*ENOENT/);
});

t.test('exactly one of --passphrase-file / --insecure; other flag errors', async (t) => {
  const dir = await tempDir(t);
  const pass = join(dir, 'pass');
  await writeFile(pass, 'pw\n');
  const none = await runCli(['keys', 'new', '--out', join(dir, 'a')]);
  t.equal(none.exitCode, 1);
  t.match(none.err, /^error: give --passphrase-file F .* or --insecure/);
  t.equal(none.out, '');
  const both = await runCli(['keys', 'new', '--out', join(dir, 'a'), '--insecure', '--passphrase-file', pass, '--json']);
  t.equal(both.exitCode, 1);
  t.match(both.json(), { error: { code: 'CLI_USAGE', message: /not both/ } });
  await t.rejects(stat(join(dir, 'a')), 'nothing written');
  const curve = await runCli(['keys', 'new', '--out', join(dir, 'b'), '--insecure', '--curve', 'ed25519']);
  t.equal(curve.exitCode, 1);
  t.match(curve.err, /unknown curve "ed25519"/);
  const noOut = await runCli(['keys', 'new', '--insecure']);
  t.equal(noOut.exitCode, 1);
  t.match(noOut.err, /missing --out DIR/);
  const noKey = await runCli(['keys', 'show']);
  t.equal(noKey.exitCode, 1);
  t.match(noKey.err, /missing --key FILE/);
  const unknown = await runCli(['keys', 'new', '--out', join(dir, 'c'), '--insecure', '--bogus']);
  t.equal(unknown.exitCode, 1);
  t.match(unknown.err, /unknown option '--bogus'/);
});

t.test('refuses to overwrite existing key files unless --force', async (t) => {
  const dir = await tempDir(t);
  const first = await runCli(['keys', 'new', '--out', dir, '--insecure', '--json']);
  t.equal(first.exitCode, 0);
  const before = await readFile(join(dir, 'online.json'), 'utf8');
  const again = await runCli(['keys', 'new', '--out', dir, '--insecure']);
  t.equal(again.exitCode, 1);
  t.match(again.err, /online\.json already exists \(use --force/);
  t.equal(await readFile(join(dir, 'online.json'), 'utf8'), before, 'unchanged');
  // only offline.json present: still refused, and online.json is not created either
  const dir2 = await tempDir(t);
  await writeFile(join(dir2, 'offline.json'), 'keep me');
  const partial = await runCli(['keys', 'new', '--out', dir2, '--insecure']);
  t.equal(partial.exitCode, 1);
  t.match(partial.err, /offline\.json already exists/);
  await t.rejects(stat(join(dir2, 'online.json')), 'online.json not written');
  const forced = await runCli(['keys', 'new', '--out', dir, '--insecure', '--force', '--json']);
  t.equal(forced.exitCode, 0);
  t.not(await readFile(join(dir, 'online.json'), 'utf8'), before, 'overwritten with --force');
});

t.test('corrupt or foreign key files give clear errors', async (t) => {
  const dir = await tempDir(t);
  const r = await runCli(['keys', 'new', '--out', dir, '--insecure', '--json']);
  t.equal(r.exitCode, 0);
  const file = join(dir, 'online.json');
  const good = JSON.parse(await readFile(file, 'utf8')) as KeyFile;
  const cases: [string, string, RegExp][] = [
    ['not json', '{"version":1,', /not valid JSON/],
    ['foreign json', JSON.stringify({ hello: 'world' }), /not an iotchain key file/],
    ['bad public key', JSON.stringify({ ...good, publicKey: '0x02' + '00'.repeat(32) }), /public key|publicKey/],
    ['address mismatch', JSON.stringify({ ...good, address: '0x' + '11'.repeat(20) }), /address does not match/],
    ['private key mismatch', JSON.stringify({ ...good, privateKey: '0x' + '22'.repeat(32) }), /does not match the private key/],
    ['unknown curve', JSON.stringify({ ...good, curve: 'ed448' }), /unknown curve/],
  ];
  for (const [what, text, re] of cases) {
    const bad = join(dir, `${what.replace(/ /g, '-')}.json`);
    await writeFile(bad, text);
    const h = await runCli(['keys', 'show', '--key', bad]);
    t.equal(h.exitCode, 1, what);
    t.match(h.err, re, what);
    t.match(h.err, /^error: /, what);
    t.notMatch(h.err, NO_STACK, `${what}: no stack trace`);
    const j = await runCli(['keys', 'show', '--key', bad, '--json']);
    t.match(j.json(), { error: { code: 'KEY_FILE_INVALID' } }, what);
  }
  const missing = await runCli(['keys', 'show', '--key', join(dir, 'nope.json')]);
  t.equal(missing.exitCode, 1);
  t.match(missing.err, /cannot read key file .*ENOENT/);
  const plain = await runCli(['keys', 'show', '--key', file, '--json']);
  t.match(plain.json(), { address: good.address, curve: 'secp256k1', encrypted: false, publicKey: good.publicKey });
});
