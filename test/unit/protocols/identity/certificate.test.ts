// iotchain X.509 certificates: self-signed and CA-issued, secp256k1 and P-256 online keys; every
// refusal of the X.509 half (crafted certificates for the malformed cases) and of the chain half
// (facts), all reasons reported together; openssl reads both kinds; key PEMs; the DER helper.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto, createPrivateKey } from 'node:crypto';
import {
  selfSignCertificate,
  createCertificateRequest,
  checkCertificateRequest,
  issueCertificate,
  verifyCertificate,
  checkCertificateWithFacts,
  verifyCertificateOnChain,
  certificateFactsFromJson,
  parseCertificate,
  certificateSummary,
  encodeKeyPem,
  decodeKeyPem,
  signKeyBinding,
  encodeChainExt,
  encodeIssuerExt,
  encodeHashExt,
  encodeOnlineKeyExt,
  encodeBindingExt,
  CERT_OID,
  type CertificateChainFacts,
  type OnlineIdentity,
} from '../../../../protocols/identity/certificate.js';
import { derRead, derChildren, derOid, readOid, derSequence, derUtf8 } from '../../../../protocols/identity/certificateDer.js';
import * as x509 from '@peculiar/x509';
import { KeyType, addressOf, generateKeyPair, type KeyPair } from '../../../../crypto/keys.js';
import { testKey } from '../../../utils/chain.js';

const CHAIN = 'cert-chain';
const NAME = 'gw.example';
const DAY = 86_400_000;
const now = Date.now() + 60_000; // a little ahead of every certificate made during the run
const k1 = testKey('cert/online-k1');
const p256 = testKey('cert/online-p256', KeyType.p256);
const caOnline = testKey('cert/ca-online', KeyType.p256);
const caOffline = testKey('cert/ca-offline');
const caAddress = addressOf(caOffline.type, caOffline.publicKey);
const caKey = { keyType: KeyType.p256, pub: caOnline.publicKey };
const onlineOf = (k: KeyPair): OnlineIdentity => ({ keyType: k.type, address: addressOf(k.type, k.publicKey), pub: k.publicKey });
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code).sort();
const opts = (extra: Partial<Parameters<typeof verifyCertificate>[1]> = {}) => ({ now, chainId: CHAIN, name: NAME, ...extra });

t.test('self-signed, secp256k1 online key: a separate P-256 TLS key bound by the online key', async (t) => {
  const { certPem, tlsKey } = await selfSignCertificate({ chainId: CHAIN, name: NAME, online: k1 });
  t.equal(tlsKey.type, KeyType.p256);
  const r = verifyCertificate(certPem, opts());
  t.same(r.reasons, []);
  t.equal(r.valid, true);
  const c = r.cert!;
  t.equal(c.mode, 'self');
  t.equal(c.chainId, CHAIN);
  t.same(c.online, onlineOf(k1));
  t.ok(c.binding, 'binding present');
  t.same(c.dnsNames, [NAME]);
  t.match(certificateSummary(c), { name: NAME, mode: 'self', subjectKeyIsOnlineKey: false, keyBinding: true, hashAlgorithm: '2.16.840.1.101.3.4.2.1' });
});

t.test('self-signed, P-256 online key: the online key is the subject key (or, on request, a separate one)', async (t) => {
  const a = await selfSignCertificate({ chainId: CHAIN, name: NAME, online: p256 });
  t.equal(a.tlsKey, p256);
  const r = verifyCertificate(a.certPem, opts());
  t.same(r.reasons, []);
  t.equal(r.cert!.binding, undefined);
  const b = await selfSignCertificate({ chainId: CHAIN, name: NAME, online: p256, separateTlsKey: true });
  t.not(b.tlsKey, p256);
  t.same(verifyCertificate(b.certPem, opts()).reasons, []);
  t.ok(parseCertificate(b.certPem).binding);
});

t.test('CA-issued from a PKCS#10 request, both online key types; the CA signature checked with the chain key', async (t) => {
  for (const online of [k1, p256]) {
    const req = await createCertificateRequest({ chainId: CHAIN, name: NAME, online });
    const info = await checkCertificateRequest(req.requestPem, CHAIN);
    t.same(info.online, onlineOf(online));
    const { certPem } = await issueCertificate({ request: req.requestPem, chainId: CHAIN, caAddress, caKey: caOnline });
    const ok = verifyCertificate(certPem, opts({ caKey }));
    t.same(ok.reasons, [], `valid (${online.type})`);
    t.equal(ok.caSignature, 'checked');
    t.equal(ok.cert!.mode, 'ca');
    t.same(ok.cert!.issuerAddress, caAddress);
    t.equal(verifyCertificate(certPem, opts()).caSignature, 'skipped', 'without the CA key the CA signature is not checked');
    t.same(codes(verifyCertificate(certPem, opts({ caKey: { keyType: KeyType.p256, pub: generateKeyPair(KeyType.p256).publicKey } }))), ['CERT_BAD_CA_SIGNATURE']);
    t.same(codes(verifyCertificate(certPem, opts({ caKey: { keyType: KeyType.secp256k1, pub: k1.publicKey } }))), ['CERT_CA_KEY_NOT_P256']);
  }
  await t.rejects(issueCertificate({ request: (await createCertificateRequest({ chainId: CHAIN, name: NAME, online: k1 })).requestPem, chainId: CHAIN, caAddress, caKey: k1 }), { code: 'CERT_CA_KEY_NOT_P256' });
});

t.test('a CA refuses bad requests: other chain, bad name, tampered binding', async (t) => {
  const req = await createCertificateRequest({ chainId: 'other-chain', name: NAME, online: k1 });
  await t.rejects(issueCertificate({ request: req.requestPem, chainId: CHAIN, caAddress, caKey: caOnline }), { code: 'CERT_BAD_REQUEST', message: /chain other-chain/ });
  await t.rejects(createCertificateRequest({ chainId: CHAIN, name: 'Bad_Name', online: k1 }), { code: 'CERT_BAD_REQUEST' });
  // a request whose binding was made by another online key
  const tls = generateKeyPair(KeyType.p256);
  const keys = await cryptoKeys(tls);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [NAME] }],
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.Extension(CERT_OID.chain, false, encodeChainExt(CHAIN)),
      new x509.Extension(CERT_OID.hashAlgorithm, false, encodeHashExt()),
      new x509.Extension(CERT_OID.onlineKey, false, encodeOnlineKeyExt(onlineOf(k1))),
      new x509.Extension(CERT_OID.keyBinding, false, encodeBindingExt(signKeyBinding(testKey('cert/thief'), CHAIN, NAME, tls.publicKey))),
    ],
  });
  await t.rejects(checkCertificateRequest(csr.toString('pem'), CHAIN), { code: 'CERT_BAD_REQUEST', message: /key-binding signature/ });
});

t.test('X.509 refusals, every reason at once: expired, not yet valid, wrong chain, wrong name', async (t) => {
  const { certPem } = await selfSignCertificate({ chainId: CHAIN, name: NAME, online: k1, notBefore: now - 10 * DAY, notAfter: now - DAY });
  t.same(codes(verifyCertificate(certPem, opts())), ['CERT_EXPIRED']);
  t.same(codes(verifyCertificate(certPem, { now, chainId: 'other', name: 'x.example' })), ['CERT_EXPIRED', 'CERT_NAME_MISMATCH', 'CERT_WRONG_CHAIN']);
  const future = await selfSignCertificate({ chainId: CHAIN, name: NAME, online: k1, notBefore: now + DAY, notAfter: now + 2 * DAY });
  t.same(codes(verifyCertificate(future.certPem, opts())), ['CERT_NOT_YET_VALID']);
  t.same(codes(verifyCertificate('not a certificate', opts())), ['CERT_MALFORMED']);
  t.same(codes(verifyCertificate(new Uint8Array([0x30, 0x03, 1, 2, 3]), opts())), ['CERT_MALFORMED']);
});

// ---- crafted certificates (what a broken or malicious issuer could produce)

async function cryptoKeys(k: KeyPair): Promise<{ privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey }> {
  const jwk = parseKeyJwk(k);
  const privateKey = await webcrypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const { d: _d, ...pub } = jwk;
  const publicKey = await webcrypto.subtle.importKey('jwk', pub, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  return { privateKey, publicKey };
}

function parseKeyJwk(k: KeyPair): webcrypto.JsonWebKey {
  return createPrivateKey(encodeKeyPem(k)).export({ format: 'jwk' }) as webcrypto.JsonWebKey;
}

interface Craft {
  exts: x509.Extension[];
  subject: KeyPair;
  signer?: KeyPair;
  issuer?: string;
}

async function craft(c: Craft): Promise<string> {
  const subject = await cryptoKeys(c.subject);
  const signer = await cryptoKeys(c.signer ?? c.subject);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: `CN=${NAME}`,
    issuer: c.issuer ?? `CN=${NAME}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + DAY),
    publicKey: subject.publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: NAME }]), ...c.exts],
  });
  return cert.toString('pem');
}

function standardExts(o: { online: OnlineIdentity; tls: KeyPair; binding?: Uint8Array | null; chain?: Uint8Array; hash?: Uint8Array; issuer?: Uint8Array }): x509.Extension[] {
  const binding = o.binding === null ? undefined : (o.binding ?? signKeyBinding(k1, CHAIN, NAME, o.tls.publicKey));
  return [
    new x509.Extension(CERT_OID.chain, false, o.chain ?? encodeChainExt(CHAIN)),
    new x509.Extension(CERT_OID.issuer, false, o.issuer ?? encodeIssuerExt('self', o.online.address)),
    new x509.Extension(CERT_OID.hashAlgorithm, false, o.hash ?? encodeHashExt()),
    new x509.Extension(CERT_OID.onlineKey, false, encodeOnlineKeyExt(o.online)),
    ...(binding ? [new x509.Extension(CERT_OID.keyBinding, false, encodeBindingExt(binding))] : []),
  ];
}

t.test('crafted certificates: each defect named', async (t) => {
  const tls = generateKeyPair(KeyType.p256);
  const online = onlineOf(k1);
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls }), subject: tls }), opts())), [], 'the crafted baseline is valid');

  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls, binding: null }), subject: tls }), opts())), ['CERT_BINDING_MISSING']);
  const thief = signKeyBinding(testKey('cert/thief'), CHAIN, NAME, tls.publicKey);
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls, binding: thief }), subject: tls }), opts())), ['CERT_BAD_BINDING']);
  const otherName = signKeyBinding(k1, CHAIN, 'other.example', tls.publicKey);
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls, binding: otherName }), subject: tls }), opts())), ['CERT_BAD_BINDING'], 'a binding is for one name');
  const wrongAddr = { ...online, address: addressOf(KeyType.p256, p256.publicKey) };
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online: wrongAddr, tls }), subject: tls }), opts())), ['CERT_BAD_BINDING', 'CERT_ONLINE_ADDRESS_MISMATCH']);
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls, hash: encodeHashExt('2.16.840.1.101.3.4.2.3') }), subject: tls }), opts())), ['CERT_HASH_UNSUPPORTED']);
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls }), subject: tls, signer: generateKeyPair(KeyType.p256) }), opts())), ['CERT_BAD_SIGNATURE']);
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls, issuer: encodeIssuerExt('self', caAddress) }), subject: tls }), opts())), ['CERT_ISSUER_MISMATCH']);
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls }), subject: tls, issuer: 'CN=someone.else' }), opts())), ['CERT_ISSUER_MISMATCH'], 'issuer DN ≠ subject DN');
  t.same(codes(verifyCertificate(await craft({ exts: standardExts({ online, tls, chain: encodeChainExt(CHAIN, 'receipts') }), subject: tls }), opts())), ['CERT_WRONG_REGISTRY']);

  const noOnline = standardExts({ online, tls }).filter((e) => e.type !== CERT_OID.onlineKey);
  t.same(codes(verifyCertificate(await craft({ exts: noOnline, subject: tls }), opts())), ['CERT_EXT_MISSING']);
  const twice = [...standardExts({ online, tls }), new x509.Extension(CERT_OID.chain, false, encodeChainExt(CHAIN))];
  t.same(codes(verifyCertificate(await craft({ exts: twice, subject: tls }), opts())), ['CERT_EXT_DUPLICATE']);
  const badChain = standardExts({ online, tls, chain: derSequence(derUtf8(CHAIN)) });
  t.same(codes(verifyCertificate(await craft({ exts: badChain, subject: tls }), opts())), ['CERT_EXT_MALFORMED']);
  const trailing = standardExts({ online, tls, chain: new Uint8Array([...encodeChainExt(CHAIN), 0]) });
  t.same(codes(verifyCertificate(await craft({ exts: trailing, subject: tls }), opts())), ['CERT_EXT_MALFORMED']);
  const badPoint = standardExts({ online, tls }).map((e) =>
    e.type === CERT_OID.onlineKey ? new x509.Extension(CERT_OID.onlineKey, false, encodeOnlineKeyExt({ ...online, pub: new Uint8Array(33).fill(5) })) : e,
  );
  t.same(codes(verifyCertificate(await craft({ exts: badPoint, subject: tls }), opts())), ['CERT_EXT_MALFORMED']);

  // every defect at once is every reason at once
  const many = await craft({ exts: standardExts({ online: wrongAddr, tls, binding: null, hash: encodeHashExt('1.2.3'), chain: encodeChainExt('other') }), subject: tls, signer: generateKeyPair(KeyType.p256) });
  t.same(codes(verifyCertificate(many, opts())), ['CERT_BAD_SIGNATURE', 'CERT_BINDING_MISSING', 'CERT_HASH_UNSUPPORTED', 'CERT_ONLINE_ADDRESS_MISMATCH', 'CERT_WRONG_CHAIN']);
});

t.test('a secp256k1 subject key (TLS 1.3 cannot use it) is refused', { skip: spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-cert-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-nodes', '-subj', `/CN=${NAME}`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1'], { timeout: 20_000 });
  t.equal(r.status, 0, r.stderr.toString());
  const res = verifyCertificate(await readFile(join(dir, 'c.pem'), 'utf8'), opts());
  t.ok(codes(res).includes('CERT_KEY_NOT_P256'), codes(res).join(','));
  t.equal(codes(res).filter((c) => c === 'CERT_EXT_MISSING').length, 4, 'and no iotchain extensions');
});

// ---- the chain half

type FactsOver = Omit<Partial<CertificateChainFacts>, 'key' | 'name'> & { key?: Partial<CertificateChainFacts['key']>; name?: Partial<CertificateChainFacts['name']> };

function facts(over: FactsOver = {}, online: OnlineIdentity = onlineOf(k1)): CertificateChainFacts {
  const owner = addressOf(KeyType.secp256k1, testKey('cert/owner').publicKey);
  return {
    time: now,
    reasons: over.reasons ?? [],
    name: { name: NAME, state: 'active', owner, ip: '127.0.0.1', expires: now + DAY, ...(over.name ?? {}) },
    key: { online: online.address, state: 'active', owner, keyType: online.keyType, pub: online.pub, revokedAt: undefined, matchesDomain: true, ...(over.key ?? {}) },
    ca: over.ca,
    trust: over.trust ?? { level: 0, stake: 0n },
  };
}

t.test('chain facts: revoked, closed, not the owner, expired name, CA not registered, trust; all reasons reported', async (t) => {
  const { certPem } = await selfSignCertificate({ chainId: CHAIN, name: NAME, online: k1 });
  const o = { now, chainId: CHAIN, name: NAME };
  t.same(checkCertificateWithFacts(certPem, facts(), o).reasons, []);
  t.same(codes(checkCertificateWithFacts(certPem, facts({ reasons: ['KEY_REVOKED'], key: { state: 'revoked', revokedAt: 12 } }), o)), ['KEY_REVOKED']);
  t.match(checkCertificateWithFacts(certPem, facts({ reasons: ['KEY_REVOKED'], key: { revokedAt: 12 } }), o).reasons[0]!.message, /revoked at height 12/);
  t.same(codes(checkCertificateWithFacts(certPem, facts({ reasons: ['KEY_CLOSED', 'NAME_OWNER_CLOSED'] }), o)), ['KEY_CLOSED', 'NAME_OWNER_CLOSED']);
  t.same(codes(checkCertificateWithFacts(certPem, facts({ reasons: ['KEY_NOT_DOMAIN_OWNER'] }), o)), ['KEY_NOT_DOMAIN_OWNER']);
  t.same(codes(checkCertificateWithFacts(certPem, facts({ name: { expires: now - 1 } }), o)), ['NAME_EXPIRED'], 'the name expired by the client clock');
  t.same(codes(checkCertificateWithFacts(certPem, facts({ key: { pub: p256.publicKey, keyType: KeyType.p256 } }), o)), ['CERT_KEY_MISMATCH']);
  t.same(codes(checkCertificateWithFacts(certPem, facts({}, onlineOf(p256)), o)), ['CERT_FACTS_MISMATCH', 'CERT_KEY_MISMATCH']);
  t.same(codes(checkCertificateWithFacts(certPem, facts({ trust: { level: 1, stake: 100n } }), { ...o, minTrustLevel: 2 })), ['TRUST_TOO_LOW']);
  t.same(codes(checkCertificateWithFacts(certPem, facts({ trust: { level: 2, stake: 400n } }), { ...o, minTrustLevel: 2 })), []);
  const all = facts({ reasons: ['KEY_REVOKED', 'NAME_EXPIRED'], name: { expires: now - 1 }, trust: { level: 0, stake: 0n } });
  t.same(codes(checkCertificateWithFacts(certPem, all, { ...o, name: 'x.example', minTrustLevel: 1 })), ['CERT_FACTS_MISMATCH', 'CERT_NAME_MISMATCH', 'KEY_REVOKED', 'NAME_EXPIRED', 'TRUST_TOO_LOW']);

  // CA-issued: the CA's key comes from the facts
  const req = await createCertificateRequest({ chainId: CHAIN, name: NAME, online: k1 });
  const issued = (await issueCertificate({ request: req.requestPem, chainId: CHAIN, caAddress, caKey: caOnline })).certPem;
  const caFacts = { address: caAddress, registered: true, keyActive: true, keyType: KeyType.p256, pub: caOnline.publicKey };
  t.same(codes(checkCertificateWithFacts(issued, facts({ ca: caFacts }), o)), []);
  t.same(codes(checkCertificateWithFacts(issued, facts({ ca: { ...caFacts, registered: false }, reasons: ['CA_NOT_REGISTERED'] }), o)), ['CA_NOT_REGISTERED']);
  t.same(codes(checkCertificateWithFacts(issued, facts({ ca: { ...caFacts, keyActive: false, pub: undefined, keyType: undefined }, reasons: ['CA_KEY_INACTIVE'] }), o)), ['CA_KEY_INACTIVE', 'CERT_BAD_CA_SIGNATURE']);
  t.same(codes(checkCertificateWithFacts(issued, facts({ ca: { ...caFacts, pub: generateKeyPair(KeyType.p256).publicKey } }), o)), ['CERT_BAD_CA_SIGNATURE'], 'the CA rotated its key or never signed this');
  t.same(codes(checkCertificateWithFacts(issued, facts(), o)), ['CERT_CA_UNKNOWN']);

  // verifyCertificateOnChain asks the source for exactly what the certificate names
  const asked: unknown[] = [];
  const v = await verifyCertificateOnChain(issued, async (q) => (asked.push(q), facts({ ca: caFacts })), o);
  t.equal(v.valid, true);
  t.same(asked, [{ name: NAME, online: onlineOf(k1).address, ca: caAddress }]);
});

t.test('certificateFactsFromJson reads the identity query answer and refuses a bad shape', async (t) => {
  const online = onlineOf(k1);
  const json = {
    valid: false,
    reasons: ['KEY_REVOKED'],
    name: { name: NAME, state: 'active', resolved: true, ip: '127.0.0.1:8443', owner: '0x' + '11'.repeat(20), backup: null, registrar: '0x' + '11'.repeat(20), mode: 'decentralized', registeredAt: 3, expires: now + DAY },
    key: { online: '0x' + Buffer.from(online.address).toString('hex'), state: 'revoked', owner: '0x' + '11'.repeat(20), keyType: 'secp256k1', pub: '0x' + Buffer.from(online.pub).toString('hex'), from: 3, revokedAt: 9, matchesDomain: true },
    ca: null,
    trust: { stake: '250', vouchers: 2, level: 2, incentivePool: '0' },
    time: now,
  };
  const f = certificateFactsFromJson(json);
  t.equal(f.key.revokedAt, 9);
  t.equal(f.key.keyType, KeyType.secp256k1);
  t.same(f.trust, { level: 2, stake: 250n });
  t.equal(f.ca, undefined);
  t.throws(() => certificateFactsFromJson({ ...json, key: { ...json.key, pub: '0x12' } }), { code: 'ENCODING_INVALID' });
  t.throws(() => certificateFactsFromJson({ reasons: [] }), { code: 'ENCODING_INVALID' });
});

t.test('openssl x509 -text reads self-signed and CA-issued certificates and shows the extensions', { skip: spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not installed' }, async (t) => {
  const self = (await selfSignCertificate({ chainId: CHAIN, name: NAME, online: k1 })).certPem;
  const req = await createCertificateRequest({ chainId: CHAIN, name: NAME, online: p256 });
  const issued = (await issueCertificate({ request: req.requestPem, chainId: CHAIN, caAddress, caKey: caOnline })).certPem;
  for (const [kind, pem] of [['self-signed', self], ['CA-issued', issued]] as const) {
    const r = spawnSync('openssl', ['x509', '-text', '-noout'], { input: pem, timeout: 10_000 });
    t.equal(r.status, 0, `${kind}: ${r.stderr.toString()}`);
    const text = r.stdout.toString();
    t.match(text, /Public Key Algorithm: id-ecPublicKey[\s\S]*NIST CURVE: P-256/, `${kind}: P-256 subject key`);
    t.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    t.match(text, /DNS:gw\.example/);
    for (const oid of [CERT_OID.chain, CERT_OID.issuer, CERT_OID.hashAlgorithm, CERT_OID.onlineKey]) t.match(text, new RegExp(oid.replace(/\./g, '\\.') + ':'), `${kind}: ${oid}`);
    t.match(text, /cert-chain/, `${kind}: the chain id is readable`);
  }
  t.match(spawnSync('openssl', ['x509', '-text', '-noout'], { input: issued }).stdout.toString(), /Issuer: CN = iotchain CA 0x[0-9a-fA-F]{40}, O = cert-chain/);
  const csr = spawnSync('openssl', ['req', '-text', '-noout', '-verify'], { input: req.requestPem, timeout: 10_000 });
  t.match(csr.stdout.toString() + csr.stderr.toString(), /verify OK|Certificate request self-signature verify OK/, 'openssl checks the request signature too');
});

t.test('key PEMs: encrypted with a passphrase or plain; the wrong passphrase is refused', async (t) => {
  const k = generateKeyPair(KeyType.p256);
  t.same(decodeKeyPem(encodeKeyPem(k)).privateKey, k.privateKey);
  const enc = encodeKeyPem(k, 'correct horse');
  t.match(enc, /ENCRYPTED PRIVATE KEY/);
  t.same(decodeKeyPem(enc, 'correct horse').publicKey, k.publicKey);
  t.throws(() => decodeKeyPem(enc, 'wrong'), { code: 'KEY_WRONG_PASSPHRASE' });
  t.throws(() => encodeKeyPem(k1), { code: 'CERT_KEY_NOT_P256' });
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-cert-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'k.pem'), enc);
  t.same(decodeKeyPem(await readFile(join(dir, 'k.pem'), 'utf8'), 'correct horse').publicKey, k.publicKey);
});

t.test('DER helper: OIDs round-trip (big arcs too), non-DER input is refused', async (t) => {
  for (const oid of ['1.3.6.1.4.1.32473.1.4', '2.16.840.1.101.3.4.2.1', '2.25.47421965943410697997698471274924207721']) t.equal(readOid(derRead(derOid(oid), 'oid'), 'oid'), oid);
  t.throws(() => derRead(new Uint8Array([0x30, 0x81, 0x01, 0x00]), 'x'), { code: 'CERT_DER_MALFORMED' }, 'non-minimal length');
  t.throws(() => derRead(new Uint8Array([0x30, 0x80, 0x00, 0x00]), 'x'), { code: 'CERT_DER_MALFORMED' }, 'indefinite length');
  t.throws(() => derRead(new Uint8Array([0x30, 0x02, 0x04]), 'x'), { code: 'CERT_DER_MALFORMED' }, 'truncated');
  t.throws(() => derChildren(derRead(new Uint8Array([0x30, 0x02, 0x04, 0x05]), 'x'), 'x'), { code: 'CERT_DER_MALFORMED' }, 'child overruns');
  t.throws(() => readOid(derRead(new Uint8Array([0x06, 0x02, 0x80, 0x01]), 'x'), 'x'), { code: 'CERT_DER_MALFORMED' }, 'non-minimal arc');
});
