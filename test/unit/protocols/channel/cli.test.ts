// The `iotchain cert` and `iotchain channel` commands against a real in-process node: cert
// self-sign / request / issue / verify in-process; `channel serve` as a real OS process (the
// shipped bin/iotchain.js), `channel connect … --vote` in-process.
import t from 'tap';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyType } from '../../../../crypto/keys.js';
import { registerCertCommands } from '../../../../cli/commands/cert.js';
import { registerChannelCommands } from '../../../../cli/commands/channel.js';
import { saveKeyDir } from '../../../../cli/keyFiles.js';
import { runCli } from '../../cli/helpers.js';
import { Proc } from '../../../utils/proc.js';
import { startTestNet, entity, CHAIN, type Entity } from './fixture.js';

const cli = (args: string[]) =>
  runCli(args, (program, io) => {
    registerCertCommands(program, { io });
    registerChannelCommands(program, { io });
  });

const gw = entity('cli-gw');
const svc = entity('cli-svc');
const ca = entity('cli-ca', KeyType.p256);
const sub = entity('cli-sub');
const net = await startTestNet(t, { funded: [gw, svc, ca, sub], cas: [ca] });
for (const e of [gw, svc, ca, sub]) await net.register(e);

const dir = await mkdtemp(join(tmpdir(), 'iotchain-channel-cli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const pass = join(dir, 'pass.txt');
await writeFile(pass, 'gateway passphrase\n');
async function keyDir(e: Entity, passphrase: string | undefined): Promise<string> {
  const d = join(dir, `${e.label}-keys`);
  await saveKeyDir(d, { online: e.online, offline: e.offline }, passphrase, { scryptN: 1 << 10 });
  return d;
}
const gwKeys = await keyDir(gw, 'gateway passphrase');
const svcKeys = await keyDir(svc, undefined);
const caKeys = await keyDir(ca, undefined);
const subKeys = await keyDir(sub, undefined);
const rpc = net.node.rpcUrl!;

t.test('cert self-sign → channel serve (process) → channel connect --vote → cert verify', async (t) => {
  const name = 'cli-gw.iot';
  const out = join(dir, 'gw-cert');
  const made = await cli(['cert', 'self-sign', '--name', name, '--keys', gwKeys, '--out', out, '--rpc', rpc, '--passphrase-file', pass, '--json']);
  t.equal(made.exitCode, 0, made.out + made.err);
  t.match(made.json(), { name, mode: 'self', chainId: CHAIN, keyBinding: true, keyEncrypted: true, files: { 'cert.pem': join(out, 'cert.pem'), 'key.pem': join(out, 'key.pem') } });
  t.match(await readFile(join(out, 'key.pem'), 'utf8'), /ENCRYPTED PRIVATE KEY/);
  const again = await cli(['cert', 'self-sign', '--name', name, '--keys', gwKeys, '--out', out, '--chain-id', CHAIN, '--passphrase-file', pass, '--json']);
  t.equal(again.exitCode, 1, 'refuses to overwrite');

  const offline = await cli(['cert', 'verify', '--cert', join(out, 'cert.pem'), '--offline', '--json']);
  t.match(offline.json(), { valid: true, reasons: [] });
  const unregistered = await cli(['cert', 'verify', '--cert', join(out, 'cert.pem'), '--rpc', rpc, '--genesis', net.genesisFile, '--json']);
  t.equal(unregistered.exitCode, 1);
  t.match(unregistered.json(), { valid: false, reasons: [{ code: 'NAME_NOT_REGISTERED' }] });

  const serve = new Proc(['channel', 'serve', '--name', name, '--cert', join(out, 'cert.pem'), '--key', join(out, 'key.pem'), '--keys', gwKeys, '--port', '0', '--host', '127.0.0.1', '--passphrase-file', pass, '--json']);
  t.teardown(() => serve.stop('SIGTERM'));
  await serve.waitFor(/"serving":true[^\n]*\n/, 60_000);
  const serving = JSON.parse(/\{"serving":true[^\n]*/.exec(serve.out)![0]) as { port: number; chainId: string };
  t.equal(serving.chainId, CHAIN);
  await net.registerName(gw, name, `127.0.0.1:${serving.port}`);

  const conn = await cli(['channel', 'connect', name, '--rpc', rpc, '--keys', svcKeys, '--insecure', '--vote', '--score', '3', '--genesis', net.genesisFile, '--json']);
  t.equal(conn.exitCode, 0, conn.out + conn.err);
  const j = conn.json();
  t.match(j, { connected: true, name, trust: 'genesis-file', keyState: 'active', endpoint: { host: '127.0.0.1', port: serving.port }, vote: { status: 'committed' } });
  t.match((j.payload as { text: string }).text, /"gateway":"cli-gw.iot"/);
  t.match(j.proof, { clientRandom: /^0x[0-9a-f]{64}$/, exporterHash: /^0x[0-9a-f]{64}$/, signature: /^0x[0-9a-f]{128}$/ });
  const rep = await net.chain.query('reputation/getReputation', { name });
  t.match(rep.value, { found: true, positives: 1, score: '3000000000000000000' }, 'the vote counted');

  const human = await cli(['channel', 'connect', name, '--rpc', rpc, '--keys', svcKeys, '--insecure']);
  t.equal(human.exitCode, 0, human.err);
  t.match(human.out, /connected: +cli-gw\.iot at 127\.0\.0\.1/);
  t.match(human.out, /trust: +validators reported by the RPC node/);

  const valid = await cli(['cert', 'verify', '--cert', join(out, 'cert.pem'), '--rpc', rpc, '--genesis', net.genesisFile, '--json']);
  t.match(valid.json(), { valid: true, reasons: [], chain: { keyState: 'active', nameState: 'active', trust: 'genesis-file' } });

  const nobody = await cli(['channel', 'connect', 'nobody.iot', '--rpc', rpc, '--keys', svcKeys, '--insecure', '--json']);
  t.equal(nobody.exitCode, 1);
  t.match(nobody.json(), { connected: false, reasons: [{ code: 'REPUTATION_UNKNOWN' }] });

  await serve.stop('SIGTERM');
  t.equal(serve.child.exitCode, 0, 'serve stops cleanly on SIGTERM');
});

t.test('cert request → cert issue (CA) → verify through the chain', async (t) => {
  const name = 'cli-sub.iot';
  const reqDir = join(dir, 'sub-req');
  const req = await cli(['cert', 'request', '--name', name, '--keys', subKeys, '--out', reqDir, '--chain-id', CHAIN, '--insecure', '--json']);
  t.equal(req.exitCode, 0, req.out + req.err);
  const certDir = join(dir, 'sub-cert');
  const issued = await cli(['cert', 'issue', '--request', join(reqDir, 'request.pem'), '--keys', caKeys, '--out', certDir, '--genesis', net.genesisFile, '--days', '30', '--insecure', '--json']);
  t.equal(issued.exitCode, 0, issued.out + issued.err);
  t.match(issued.json(), { name, mode: 'ca', keyBinding: true });
  const off = await cli(['cert', 'verify', '--cert', join(certDir, 'cert.pem'), '--offline', '--json']);
  t.match(off.json(), { valid: true, caSignature: 'skipped' });
  await net.registerName(sub, name, '127.0.0.1:9', ca);
  const v = await cli(['cert', 'verify', '--cert', join(certDir, 'cert.pem'), '--rpc', rpc, '--genesis', net.genesisFile, '--json']);
  t.match(v.json(), { valid: true, reasons: [] });
  const wrongChain = await cli(['cert', 'issue', '--request', join(reqDir, 'request.pem'), '--keys', caKeys, '--out', join(dir, 'x'), '--chain-id', 'other-chain', '--insecure', '--json']);
  t.equal(wrongChain.exitCode, 1);
  t.match(wrongChain.json(), { error: { code: 'CERT_BAD_REQUEST' } });
  const usage = await cli(['cert', 'self-sign', '--keys', subKeys, '--out', join(dir, 'y'), '--json']);
  t.match(usage.json(), { error: { code: 'CLI_USAGE', message: /--name/ } });
});
