// The secure channel end to end against a real in-process node (identity + reputation modules):
// gateways with self-signed and CA-issued certificates (secp256k1 and P-256 online keys), a service
// that verifies them through proven queries, votes with the evidence; and every refusal: revoked
// and closed keys, wrong domain, expired certificate, bad CA and session signatures, evidence
// relayed from another session, a lying RPC node; plus openssl s_client against the gateway.
import t, { type Test } from 'tap';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { KeyType, generateKeyPair, type KeyPair } from '../../../../crypto/keys.js';
import { toHex } from '../../../../lib/hex.js';
import { RpcClient } from '../../../../rpc/client.js';
import { selfSignCertificate, createCertificateRequest, issueCertificate, encodeKeyPem, verifyCertificateOnChain } from '../../../../protocols/identity/certificate.js';
import { SCORE_ONE } from '../../../../protocols/reputation/index.js';
import {
  startGateway,
  connectChannel,
  voteDomain,
  ProvenChain,
  anchorFromGenesis,
  anchorFromStatus,
  answerHello,
  tlsChannelBinding,
  FramedChannel,
  ChannelRefusedError,
  type Gateway,
  type ConnectOptions,
} from '../../../../protocols/channel/index.js';
import { startTestNet, entity, CHAIN, type Entity, type TestNet } from './fixture.js';

const gwK1 = entity('gw-k1'); // secp256k1 online key, self-signed
const gwP = entity('gw-p256', KeyType.p256); // P-256 online key, CA-issued
const ca = entity('ca', KeyType.p256);
const svc = entity('svc');
const rot = entity('rotating');
const closer = entity('closer');
const other = entity('other');
const old = entity('expired');
const forged = entity('forged-ca', KeyType.p256);
const relayed = entity('relayed');
const liar = entity('liar');
const all = [gwK1, gwP, ca, svc, rot, closer, other, old, forged, relayed, liar];

const net: TestNet = await startTestNet(t, { funded: all, cas: [ca] });
for (const e of all) await net.register(e);

/** Starts a gateway for `e` with a certificate and registers `name` at its port. */
async function gateway(e: Entity, name: string, o: { certPem: string; tlsKey: KeyPair; now?: () => number; register?: boolean; ca?: Entity }): Promise<Gateway> {
  const gw = await startGateway({ name, certPem: o.certPem, tlsKey: o.tlsKey, onlineKey: e.online, port: 0, ...(o.now ? { now: o.now } : {}) });
  t.teardown(() => gw.close());
  if (o.register !== false) await net.registerName(e, name, `127.0.0.1:${gw.port}`, o.ca);
  return gw;
}

function connect(name: string, extra: Partial<ConnectOptions> = {}): ReturnType<typeof connectChannel> {
  return connectChannel({ name, chain: net.chain, voter: svc.id, timeoutMs: 5_000, ...extra });
}

async function refusal(t: Test, p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ChannelRefusedError) return e.reasons.map((r) => r.code);
    throw e;
  }
  t.fail('expected a refusal');
  return [];
}

async function reputationOf(name: string): Promise<{ score: bigint; positives: number }> {
  const a = await net.chain.query('reputation/getReputation', { name });
  const v = a.value as { score: string; positives: number };
  return { score: BigInt(v.score), positives: v.positives };
}

/** A TLS server holding a gateway's certificate and TLS key (but not its online key) that answers hellos with `answer`. */
async function rogue(certPem: string, tlsKey: KeyPair, answer: (socket: TLSSocket, ch: FramedChannel) => Promise<void>): Promise<number> {
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ cert: certPem, key: encodeKeyPem(tlsKey), minVersion: 'TLSv1.3' }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    void answer(s, new FramedChannel(s)).catch(() => s.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

t.test('self-signed gateway with a secp256k1 online key: verified through the chain, evidence bound, vote counts', async (t) => {
  const name = 'gw-k1.iot';
  const { certPem, tlsKey } = await selfSignCertificate({ chainId: CHAIN, name, online: gwK1.online });
  const gw = await gateway(gwK1, name, { certPem, tlsKey });
  const before = await reputationOf(name);

  const s = await connect(name);
  t.equal(s.certificate.mode, 'self');
  t.equal(toHex(s.certificate.online!.address), toHex(gwK1.on), 'the online key the chain holds');
  t.not(toHex(s.certificate.subjectKey!), toHex(gwK1.online.publicKey), 'subject key is a separate P-256 TLS key');
  t.equal(s.facts.key.state, 'active');
  t.same(s.endpoint, { host: '127.0.0.1', port: gw.port }, 'address from the chain');
  t.match(new TextDecoder().decode(s.payload!.data), /"gateway":"gw-k1.iot"/);
  t.equal(gw.sessions, 1);

  const vote = await voteDomain({ rpc: net.rpc, chainId: CHAIN, modules: net.modules, onlineKey: svc.online, name, score: 5, proof: s.proof });
  t.equal(vote.status, 'committed', JSON.stringify(vote.error));
  const after = await reputationOf(name);
  t.equal(after.positives, before.positives + 1);
  t.ok(after.score > before.score, `score ${before.score} → ${after.score}`);
  t.equal(after.score - before.score, 5n * SCORE_ONE);

  const again = await voteDomain({ rpc: net.rpc, chainId: CHAIN, modules: net.modules, onlineKey: svc.online, name, score: 5, proof: s.proof });
  t.equal(again.status, 'failed', 'the same proof cannot vote twice');

  const thief = await voteDomain({ rpc: net.rpc, chainId: CHAIN, modules: net.modules, onlineKey: other.online, name, score: 5, proof: s.proof });
  t.equal(thief.status, 'failed', 'the proof names its voter: another account cannot use it');
  t.equal(thief.error?.code, 'REPUTATION_BAD_PROOF');

  t.test('a policy minimum refuses: reputation and web-of-trust level', async (t) => {
    t.same(await refusal(t, connect(name, { minScore: 1_000n * SCORE_ONE })), ['REPUTATION_TOO_LOW']);
    t.same(await refusal(t, connect(name, { minTrustLevel: 1 })), ['TRUST_TOO_LOW']);
  });
});

t.test('CA-issued certificate, P-256 online key as the subject key; a forged CA signature is refused', async (t) => {
  const name = 'gw-p.iot';
  const req = await createCertificateRequest({ chainId: CHAIN, name, online: gwP.online });
  t.equal(req.tlsKey, gwP.online, 'a P-256 online key is certified itself');
  const { certPem } = await issueCertificate({ request: req.requestPem, chainId: CHAIN, caAddress: ca.id, caKey: ca.online });
  await gateway(gwP, name, { certPem, tlsKey: req.tlsKey, ca });
  const s = await connect(name);
  t.equal(s.certificate.mode, 'ca');
  t.equal(s.certificate.binding, undefined, 'no binding needed: the subject key is the online key');
  const vote = await voteDomain({ rpc: net.rpc, chainId: CHAIN, modules: net.modules, onlineKey: svc.online, name, score: 2, proof: s.proof });
  t.equal(vote.status, 'committed');

  // The same request signed by a key that is not the CA's registered online key.
  const fname = 'forged.iot';
  const freq = await createCertificateRequest({ chainId: CHAIN, name: fname, online: forged.online });
  const fake = await issueCertificate({ request: freq.requestPem, chainId: CHAIN, caAddress: ca.id, caKey: generateKeyPair(KeyType.p256) });
  await gateway(forged, fname, { certPem: fake.certPem, tlsKey: freq.tlsKey, ca });
  t.same(await refusal(t, connect(fname)), ['CERT_BAD_CA_SIGNATURE']);
});

t.test('a revoked key (updatePublicKey) and a closed key (closePublicKey) are refused', async (t) => {
  const name = 'rot.iot';
  const { certPem, tlsKey } = await selfSignCertificate({ chainId: CHAIN, name, online: rot.online });
  await gateway(rot, name, { certPem, tlsKey });
  await connect(name);
  await net.rotate(rot, generateKeyPair());
  t.same(await refusal(t, connect(name)), ['KEY_REVOKED'], 'the old certificate is refused after updatePublicKey');

  const cname = 'closer.iot';
  const c = await selfSignCertificate({ chainId: CHAIN, name: cname, online: closer.online });
  await gateway(closer, cname, { certPem: c.certPem, tlsKey: c.tlsKey });
  await connect(cname);
  t.equal((await net.id(closer.offline, 'closePublicKey', {})).status, 'committed');
  const r = await net.chain.query('identity/resolveAddress', { name: cname });
  t.match(r.value, { resolved: false, ip: null, state: 'owner-closed' }, 'the name no longer resolves');
  t.same(await refusal(t, connect(cname)), ['NAME_OWNER_CLOSED']);
  const v = await verifyCertificateOnChain(c.certPem, net.chain.certificateFacts, { now: Date.now(), chainId: CHAIN, name: cname });
  t.same(v.reasons.map((r) => r.code).sort(), ['KEY_CLOSED', 'NAME_OWNER_CLOSED'], 'the certificate itself is refused: key closed, name unusable');
});

t.test('wrong domain: a name whose address leads to another gateway', async (t) => {
  const name = 'other.iot';
  const { certPem, tlsKey } = await selfSignCertificate({ chainId: CHAIN, name: 'not-other.iot', online: other.online });
  await gateway(other, 'not-other.iot', { certPem, tlsKey, register: false }).then((gw) => net.registerName(other, name, `127.0.0.1:${gw.port}`));
  const codes = await refusal(t, connect(name));
  t.ok(codes.includes('CERT_NAME_MISMATCH'), codes.join(','));
  const gwHere = await gateway(gwK1, 'gw-k1-second.iot', { ...(await selfSignCertificate({ chainId: CHAIN, name: 'gw-k1-second.iot', online: gwK1.online })), register: false });
  await net.registerName(other, 'other2.iot', `127.0.0.1:${gwHere.port}`);
  const codes2 = await refusal(t, connect('other2.iot'));
  t.ok(codes2.includes('CERT_NAME_MISMATCH') && codes2.includes('KEY_NOT_DOMAIN_OWNER'), codes2.join(','));
});

t.test('an expired certificate is refused', async (t) => {
  const name = 'expired.iot';
  const day = 86_400_000;
  const past = Date.now() - 10 * day;
  const { certPem, tlsKey } = await selfSignCertificate({ chainId: CHAIN, name, online: old.online, notBefore: past, notAfter: past + 5 * day });
  // the gateway's clock is set inside the validity period so it agrees to serve the certificate
  await gateway(old, name, { certPem, tlsKey, now: () => Date.now() - 7 * day });
  t.same(await refusal(t, connect(name)), ['CERT_EXPIRED']);
});

t.test('evidence: relayed from another session, or signed by a key other than the online key', async (t) => {
  const name = 'relayed.iot';
  const { certPem, tlsKey } = await selfSignCertificate({ chainId: CHAIN, name, online: relayed.online });
  const real = await gateway(relayed, name, { certPem, tlsKey, register: false });
  // A man in the middle holding the certificate and TLS key (not the online key): it relays the
  // client's hello to the real gateway over its own TLS session and forwards the evidence.
  const mitm = await rogue(certPem, tlsKey, async (_s, ch) => {
    const hello = await ch.next(5_000);
    const up = tlsConnect({ host: '127.0.0.1', port: real.port, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
    up.on('error', () => {});
    await once(up, 'secureConnect');
    const upch = new FramedChannel(up);
    upch.send(hello);
    ch.send(await upch.next(5_000));
    up.destroy();
  });
  await net.registerName(relayed, name, `127.0.0.1:${mitm}`);
  t.same(await refusal(t, connect(name)), ['EVIDENCE_RELAYED']);
  t.equal(real.sessions, 1, 'the real gateway did sign, for the other session');

  // The same holder signing the evidence itself with a key of its own.
  const lname = 'liar.iot';
  const l = await selfSignCertificate({ chainId: CHAIN, name: lname, online: liar.online });
  const impostor = { chainId: CHAIN, name: lname, onlineKey: generateKeyPair() };
  const port = await rogue(l.certPem, l.tlsKey, async (s, ch) => {
    const m = await ch.next(5_000);
    if (m.type !== 'hello') return;
    ch.send({ type: 'evidence', proof: answerHello(impostor, m.hello, tlsChannelBinding(s), Date.now()) });
  });
  await net.registerName(liar, lname, `127.0.0.1:${port}`);
  t.same(await refusal(t, connect(lname)), ['BAD_SESSION_SIGNATURE']);
});

t.test('a lying RPC node cannot hand out a wrong address, key state or reputation', async (t) => {
  const name = 'gw-k1.iot';
  type Rewrite = (method: string, result: Record<string, unknown>) => void;
  let rewrite: Rewrite = () => {};
  const upstream = net.node.rpcUrl!;
  const proxy = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const call = JSON.parse(body) as { method: string; params: { path?: string } };
      void fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then((r) => r.json() as Promise<{ result?: Record<string, unknown> }>)
        .then((msg) => {
          if (msg.result) rewrite(call.method === 'query' ? `query:${call.params.path}` : call.method, msg.result);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(msg));
        });
    });
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  t.teardown(() => new Promise<void>((r) => proxy.close(() => r())));
  const lyingRpc = new RpcClient(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
  t.teardown(() => lyingRpc.close());
  const chain = new ProvenChain(lyingRpc, anchorFromGenesis(net.node.genesis), { modules: net.modules });
  const via = (extra: Partial<ConnectOptions> = {}) => connectChannel({ name, chain, voter: svc.id, timeoutMs: 5_000, ...extra });

  await via(); // honest pass-through works

  const attacker = await gateway(liar, 'attacker.iot', { ...(await selfSignCertificate({ chainId: CHAIN, name: 'attacker.iot', online: liar.online })), register: false });
  rewrite = (m, r) => {
    if (m === 'query:identity/resolveAddress') (r.value as Record<string, unknown>).ip = `127.0.0.1:${attacker.port}`;
  };
  t.same(await refusal(t, via()), ['CHAIN_ANSWER_INVALID'], 'a rewritten IP');
  t.equal(attacker.sessions, 0, 'the client never reached the attacker');

  rewrite = (m, r) => {
    if (m !== 'query:identity/resolveAddress') return;
    const rec = (r.proof as { records: { key: string; value: string | null }[] }).records;
    for (const x of rec) if (x.value) x.value = x.value.slice(0, -2) + (x.value.endsWith('00') ? '01' : '00');
  };
  t.same(await refusal(t, via()), ['CHAIN_ANSWER_INVALID'], 'a rewritten record');

  rewrite = (m, r) => {
    if (m !== 'query:identity/certificateFacts') return;
    const v = r.value as { key: { state: string }; reasons: string[]; valid: boolean };
    v.key.state = 'revoked';
    v.reasons = ['KEY_REVOKED'];
    v.valid = false;
  };
  t.same(await refusal(t, via()), ['CHAIN_ANSWER_INVALID'], 'rewritten certificate facts');

  rewrite = (m, r) => {
    if (m === 'query:reputation/getReputation') (r.value as Record<string, unknown>).score = '999000000000000000000';
  };
  t.same(await refusal(t, via({ minScore: 100n * SCORE_ONE })), ['CHAIN_ANSWER_INVALID'], 'an inflated reputation');

  rewrite = (m, r) => {
    if (m === 'query:identity/resolveAddress') delete r.proof;
  };
  t.same(await refusal(t, via()), ['CHAIN_ANSWER_INVALID'], 'an unproven answer');

  rewrite = (m, r) => {
    if (m === 'chain_status') (r.validators as { consensusKey: string }[])[0]!.consensusKey = toHex(generateKeyPair(KeyType.p256).publicKey);
  };
  await via(); // the validators come from the genesis file, so a lying chain_status changes nothing
  const tofu = new ProvenChain(lyingRpc, anchorFromStatus(await lyingRpc.status()), { modules: net.modules });
  t.same(await refusal(t, connectChannel({ name, chain: tofu, voter: svc.id })), ['CHAIN_ANSWER_INVALID'], 'trusting the node’s own validator list is only as good as the node');

  rewrite = () => {};
  const stale = new ProvenChain(lyingRpc, anchorFromGenesis(net.node.genesis), { modules: net.modules, now: () => Date.now() + 3_600_000 });
  t.same(await refusal(t, connectChannel({ name, chain: stale, voter: svc.id })), ['CHAIN_ANSWER_STALE'], 'an answer certified too long ago');
});

const OPENSSL = spawnSync('openssl', ['version']).status === 0;

t.test('openssl s_client completes a TLS 1.3 handshake with the gateway and shows the chain extensions', { skip: OPENSSL ? false : 'openssl is not installed' }, async (t) => {
  const name = 'gw-k1-openssl.iot';
  const { certPem, tlsKey } = await selfSignCertificate({ chainId: CHAIN, name, online: gwK1.online });
  const gw = await gateway(gwK1, name, { certPem, tlsKey, register: false });
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${gw.port}`, '-tls1_3', '-servername', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  t.teardown(() => {
    clearTimeout(timer);
    child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  t.match(out, /Protocol\s*:\s*TLSv1\.3|New, TLSv1\.3/, 'TLS 1.3 negotiated');
  t.match(out, /-----BEGIN CERTIFICATE-----/, 'the server certificate was received');
  const served = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)![0];
  const text = spawnSync('openssl', ['x509', '-text', '-noout'], { input: served + '\n', timeout: 10_000 }).stdout.toString();
  t.match(text, /1\.3\.6\.1\.4\.1\.32473\.1\.1:[\s\S]*channel-test/, 'chain extension with the chain id');
  t.match(text, /1\.3\.6\.1\.4\.1\.32473\.1\.4/, 'online-key extension');
  t.match(text, /1\.3\.6\.1\.4\.1\.32473\.1\.5/, 'key-binding extension');
  t.match(text, /DNS:gw-k1-openssl\.iot/);
});
