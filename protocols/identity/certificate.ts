// iotchain X.509 v3 certificates (SPEC §5.1 "Certificates", paper §3.2.1): off-chain, never imported
// by the state machine.
//
// TLS 1.3 has no secp256k1 signature scheme, so the certificate's subject key is P-256: the entity's
// online key itself when it is P-256, otherwise a separate P-256 "TLS key" that the key-binding
// extension ties to the online identity with the online key's signature over it (so secp256k1
// online keys work too). Two modes, same extensions:
// - quasi-centralized: issued by a CA whose P-256 online key is registered on chain (Yakubov et
//   al.: chain, CA address and hash algorithm in the certificate), from a PKCS#10 request;
// - fully decentralized: self-signed by the subject key (SCPKI).
// Extensions (all non-critical, so any TLS stack can still use the certificate; OIDs and DER
// formats in README.md "Certificates"):
//   CERT_OID.chain          SEQUENCE { chainId UTF8String, registry UTF8String ("identity") }
//   CERT_OID.issuer         SEQUENCE { mode ENUMERATED { self(0), ca(1) }, address OCTET STRING (20) }
//   CERT_OID.hashAlgorithm  SEQUENCE { algorithm OBJECT IDENTIFIER }   (id-sha256)
//   CERT_OID.onlineKey      SEQUENCE { keyType ENUMERATED { secp256k1(0), p256(1) },
//                                      address OCTET STRING (20), publicKey OCTET STRING (33) }
//   CERT_OID.keyBinding     SEQUENCE { signature OCTET STRING (64) }   (absent when subject key = online key)
// Verification returns every reason a certificate fails, not just the first; the chain's half
// comes from the identity module's `certificateFacts` query (protocols/identity/queries.ts),
// combined here by checkCertificateWithFacts.
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs a Reflect metadata polyfill loaded first
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate as NodeX509Certificate, createPrivateKey, createPublicKey, randomBytes, type KeyObject, type JsonWebKey } from 'node:crypto';
import { InvalidMessageError, ERR } from '../../lib/errors.js';
import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from '../../lib/hex.js';
import { encode, tuple, str, bytes20, bytes33 } from '../../lib/encoding.js';
import { sign, verify } from '../../crypto/sign.js';
import { KeyType, addressOf, assertPublicKey, isKeyType, keyPairFromPrivate, toChecksumAddress, uncompressPublicKey, CURVE_NAMES, curveOf, type KeyPair } from '../../crypto/keys.js';
import { nameSyntaxError } from './syntax.js';
import {
  derSequence,
  derUtf8,
  derEnum,
  derOctets,
  derOid,
  derRead,
  derChildren,
  readUtf8,
  readEnum,
  readOctets,
  readOid,
} from './certificateDer.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

// ---------------------------------------------------------------------------------------------
// Identifiers and formats (permanent once certificates are in use)

/**
 * Root of iotchain's certificate extensions: 1.3.6.1.4.1.32473 is the IANA private enterprise
 * number reserved for documentation (RFC 5612), used until the project registers its own PEN;
 * `.1` is "iotchain". (A 2.25 UUID arc was tried first: @peculiar/x509's ASN.1 layer silently
 * drops 128-bit arcs.) Change only this constant when a PEN is assigned; certificates must then
 * be reissued.
 */
export const CERT_OID_ROOT = '1.3.6.1.4.1.32473.1';

export const CERT_OID = {
  chain: `${CERT_OID_ROOT}.1`,
  issuer: `${CERT_OID_ROOT}.2`,
  hashAlgorithm: `${CERT_OID_ROOT}.3`,
  onlineKey: `${CERT_OID_ROOT}.4`,
  keyBinding: `${CERT_OID_ROOT}.5`,
} as const;

/** id-sha256 (NIST): the hash under every iotchain signature (ECDSA over SHA-256). */
export const SHA256_OID = '2.16.840.1.101.3.4.2.1';
/** The on-chain registry a certificate refers to: the identity module. */
export const CERT_REGISTRY = 'identity';
/** Permanent domain tag of the online key's signature over a TLS key. */
export const CERT_BINDING_TAG = utf8('iotchain/identity/cert-binding/v1\0');
/** Largest certificate or request accepted for parsing. */
export const MAX_CERT_BYTES = 16 * 1024;
export const DEFAULT_CERT_DAYS = 90;

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export type CertMode = 'self' | 'ca';
const MODE_CODE: Record<CertMode, number> = { self: 0, ca: 1 };

/** The entity's on-chain online identity, as the certificate names it. */
export interface OnlineIdentity {
  keyType: KeyType;
  address: Uint8Array;
  /** 33-byte compressed public key. */
  pub: Uint8Array;
}

/** One reason a certificate (or a channel) is refused: a stable code and a human message. */
export interface CertReason {
  code: string;
  message: string;
}

/** Reason codes of the X.509 half. (Chain codes are the identity module's: NAME_*, KEY_*, CA_*.) */
export const CERT_ERR = {
  MALFORMED: 'CERT_MALFORMED',
  SIGNATURE_ALGORITHM: 'CERT_SIGNATURE_ALGORITHM',
  KEY_NOT_P256: 'CERT_KEY_NOT_P256',
  EXT_MISSING: 'CERT_EXT_MISSING',
  EXT_MALFORMED: 'CERT_EXT_MALFORMED',
  EXT_DUPLICATE: 'CERT_EXT_DUPLICATE',
  HASH_UNSUPPORTED: 'CERT_HASH_UNSUPPORTED',
  WRONG_CHAIN: 'CERT_WRONG_CHAIN',
  WRONG_REGISTRY: 'CERT_WRONG_REGISTRY',
  ONLINE_ADDRESS_MISMATCH: 'CERT_ONLINE_ADDRESS_MISMATCH',
  NAME_MISMATCH: 'CERT_NAME_MISMATCH',
  NOT_YET_VALID: 'CERT_NOT_YET_VALID',
  EXPIRED: 'CERT_EXPIRED',
  BINDING_MISSING: 'CERT_BINDING_MISSING',
  BAD_BINDING: 'CERT_BAD_BINDING',
  ISSUER_MISMATCH: 'CERT_ISSUER_MISMATCH',
  BAD_SIGNATURE: 'CERT_BAD_SIGNATURE',
  BAD_CA_SIGNATURE: 'CERT_BAD_CA_SIGNATURE',
  CA_KEY_NOT_P256: 'CERT_CA_KEY_NOT_P256',
  CA_UNKNOWN: 'CERT_CA_UNKNOWN',
  KEY_MISMATCH: 'CERT_KEY_MISMATCH',
  FACTS_MISMATCH: 'CERT_FACTS_MISMATCH',
  TRUST_TOO_LOW: 'TRUST_TOO_LOW',
  BAD_REQUEST: 'CERT_BAD_REQUEST',
} as const;

const bindingTuple = tuple<[string, string, Uint8Array, Uint8Array]>(str(64), str(253), bytes20, bytes33);

/**
 * What the online key signs to bind a P-256 TLS key to itself for one name on one chain:
 * CERT_BINDING_TAG ‖ msgpack([chainId, name, online address, TLS public key (33-byte compressed)]).
 * (SHA-256 is applied by the signature.)
 */
export function keyBindingMessage(chainId: string, name: string, onlineAddress: Uint8Array, tlsKey: Uint8Array): Uint8Array {
  return concatBytes(CERT_BINDING_TAG, encode(bindingTuple, [chainId, name, onlineAddress, tlsKey]));
}

export function signKeyBinding(onlineKey: KeyPair, chainId: string, name: string, tlsKey: Uint8Array): Uint8Array {
  return sign(onlineKey, keyBindingMessage(chainId, name, addressOf(onlineKey.type, onlineKey.publicKey), tlsKey));
}

export function verifyKeyBinding(online: OnlineIdentity, chainId: string, name: string, tlsKey: Uint8Array, signature: Uint8Array): boolean {
  return verify(online.keyType, online.pub, keyBindingMessage(chainId, name, online.address, tlsKey), signature);
}

// ---------------------------------------------------------------------------------------------
// Extension values

export function encodeChainExt(chainId: string, registry = CERT_REGISTRY): Uint8Array {
  return derSequence(derUtf8(chainId), derUtf8(registry));
}
export function encodeIssuerExt(mode: CertMode, address: Uint8Array): Uint8Array {
  return derSequence(derEnum(MODE_CODE[mode]), derOctets(address));
}
export function encodeHashExt(oid = SHA256_OID): Uint8Array {
  return derSequence(derOid(oid));
}
export function encodeOnlineKeyExt(o: OnlineIdentity): Uint8Array {
  return derSequence(derEnum(o.keyType), derOctets(o.address), derOctets(o.pub));
}
export function encodeBindingExt(signature: Uint8Array): Uint8Array {
  return derSequence(derOctets(signature));
}

function decodeChainExt(v: Uint8Array): { chainId: string; registry: string } {
  const c = derChildren(derRead(v, 'chain'), 'chain');
  if (c.length !== 2) throw new InvalidMessageError(CERT_ERR.EXT_MALFORMED, 'chain: expected 2 fields');
  return { chainId: readUtf8(c[0], 'chain.chainId', 64), registry: readUtf8(c[1], 'chain.registry', 64) };
}
function decodeIssuerExt(v: Uint8Array): { mode: CertMode; address: Uint8Array } {
  const c = derChildren(derRead(v, 'issuer'), 'issuer');
  if (c.length !== 2) throw new InvalidMessageError(CERT_ERR.EXT_MALFORMED, 'issuer: expected 2 fields');
  const m = readEnum(c[0], 'issuer.mode');
  if (m !== 0 && m !== 1) throw new InvalidMessageError(CERT_ERR.EXT_MALFORMED, `issuer.mode: unknown mode ${m}`);
  return { mode: m === 0 ? 'self' : 'ca', address: readOctets(c[1], 'issuer.address', 20) };
}
function decodeHashExt(v: Uint8Array): string {
  const c = derChildren(derRead(v, 'hashAlgorithm'), 'hashAlgorithm');
  if (c.length !== 1) throw new InvalidMessageError(CERT_ERR.EXT_MALFORMED, 'hashAlgorithm: expected 1 field');
  return readOid(c[0], 'hashAlgorithm.algorithm');
}
function decodeOnlineKeyExt(v: Uint8Array): OnlineIdentity {
  const c = derChildren(derRead(v, 'onlineKey'), 'onlineKey');
  if (c.length !== 3) throw new InvalidMessageError(CERT_ERR.EXT_MALFORMED, 'onlineKey: expected 3 fields');
  const t = readEnum(c[0], 'onlineKey.keyType');
  if (!isKeyType(t)) throw new InvalidMessageError(CERT_ERR.EXT_MALFORMED, `onlineKey.keyType: unknown key type ${t}`);
  const address = readOctets(c[1], 'onlineKey.address', 20);
  const pub = readOctets(c[2], 'onlineKey.publicKey', 33);
  try {
    assertPublicKey(t, pub);
  } catch {
    throw new InvalidMessageError(CERT_ERR.EXT_MALFORMED, `onlineKey.publicKey: not a point on ${CURVE_NAMES[t]}`);
  }
  return { keyType: t, address, pub };
}
function decodeBindingExt(v: Uint8Array): Uint8Array {
  const c = derChildren(derRead(v, 'keyBinding'), 'keyBinding');
  if (c.length !== 1) throw new InvalidMessageError(CERT_ERR.EXT_MALFORMED, 'keyBinding: expected 1 field');
  return readOctets(c[0], 'keyBinding.signature', 64);
}

// ---------------------------------------------------------------------------------------------
// P-256 keys between KeyPair, node:crypto KeyObject, WebCrypto CryptoKey and PEM

type WebCryptoKey = webcrypto.CryptoKey;

function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

function p256Jwk(pub: Uint8Array, priv?: Uint8Array): JsonWebKey {
  const u = uncompressPublicKey(KeyType.p256, pub);
  return { kty: 'EC', crv: 'P-256', x: b64u(u.subarray(1, 33)), y: b64u(u.subarray(33, 65)), ...(priv ? { d: b64u(priv) } : {}) };
}

function requireP256(k: Pick<KeyPair, 'type'>, what: string): void {
  if (k.type !== KeyType.p256) throw new InvalidMessageError(CERT_ERR.KEY_NOT_P256, `${what} must be a P-256 key (TLS 1.3 has no secp256k1 signature scheme)`);
}

/** node:crypto public KeyObject of a compressed P-256 key. */
export function p256PublicKeyObject(pub: Uint8Array): KeyObject {
  return createPublicKey({ key: p256Jwk(pub), format: 'jwk' });
}

async function cryptoKeys(k: KeyPair): Promise<{ privateKey: WebCryptoKey; publicKey: WebCryptoKey }> {
  requireP256(k, 'signing key');
  const privateKey = await webcrypto.subtle.importKey('jwk', p256Jwk(k.publicKey, k.privateKey), ECDSA_P256, false, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('jwk', p256Jwk(k.publicKey), ECDSA_P256, true, ['verify']);
  return { privateKey, publicKey };
}

/** Compressed P-256 key of a node:crypto public key, or undefined if it is not P-256. */
function compressedP256(key: KeyObject): Uint8Array | undefined {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return undefined;
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return undefined;
  const u = concatBytes(Uint8Array.of(4), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url'));
  return curveOf(KeyType.p256).Point.fromBytes(u).toBytes(true);
}

/**
 * PKCS#8 PEM of a P-256 private key (for node:tls, openssl): encrypted (AES-256-CBC, PBKDF2) with
 * `passphrase`, plain without one.
 */
export function encodeKeyPem(key: KeyPair, passphrase?: string): string {
  requireP256(key, 'TLS key');
  const k = createPrivateKey({ key: p256Jwk(key.publicKey, key.privateKey), format: 'jwk' });
  const pem = passphrase === undefined ? k.export({ format: 'pem', type: 'pkcs8' }) : k.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase });
  return String(pem);
}

/** Reads a P-256 private key PEM (PKCS#8 or SEC1, encrypted or not). */
export function decodeKeyPem(pem: string, passphrase?: string): KeyPair {
  let k: KeyObject;
  try {
    k = createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/passphrase|decrypt|bad decrypt/i.test(msg)) throw new InvalidMessageError(ERR.KEY_PASSPHRASE, `cannot decrypt the key PEM: wrong or missing passphrase`);
    throw new InvalidMessageError(ERR.KEY_FILE, `not a private key PEM: ${msg}`);
  }
  if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new InvalidMessageError(CERT_ERR.KEY_NOT_P256, 'the key PEM is not a P-256 key');
  const d = k.export({ format: 'jwk' }).d;
  if (typeof d !== 'string') throw new InvalidMessageError(ERR.KEY_FILE, 'the key PEM holds no private scalar');
  return keyPairFromPrivate(KeyType.p256, new Uint8Array(Buffer.from(d, 'base64url')));
}

// ---------------------------------------------------------------------------------------------
// Issuing

export interface CertificateValidity {
  /** ms since the epoch (rounded down to a second); default now. */
  notBefore?: number;
  /** ms since the epoch; default notBefore + DEFAULT_CERT_DAYS. */
  notAfter?: number;
}

function validityOf(v: CertificateValidity): { notBefore: Date; notAfter: Date } {
  const nb = Math.floor((v.notBefore ?? Date.now()) / 1000) * 1000;
  const na = Math.floor((v.notAfter ?? nb + DEFAULT_CERT_DAYS * DAY_MS) / 1000) * 1000;
  if (!(na > nb)) throw new InvalidMessageError(CERT_ERR.BAD_REQUEST, 'notAfter must be after notBefore');
  return { notBefore: new Date(nb), notAfter: new Date(na) };
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, 16 bytes, never zero
  return b.toString('hex');
}

function checkName(name: string): void {
  const why = nameSyntaxError(name);
  if (why) throw new InvalidMessageError(CERT_ERR.BAD_REQUEST, `bad name: ${why}`);
}

/** The subject's fields that both the request and the certificate carry. */
interface SubjectFields {
  chainId: string;
  name: string;
  online: OnlineIdentity;
  /** Compressed P-256 subject key. */
  subjectKey: Uint8Array;
  binding: Uint8Array | undefined;
}

function subjectExtensions(s: SubjectFields): x509.Extension[] {
  const exts = [
    new x509.Extension(CERT_OID.chain, false, encodeChainExt(s.chainId)),
    new x509.Extension(CERT_OID.hashAlgorithm, false, encodeHashExt()),
    new x509.Extension(CERT_OID.onlineKey, false, encodeOnlineKeyExt(s.online)),
  ];
  if (s.binding) exts.push(new x509.Extension(CERT_OID.keyBinding, false, encodeBindingExt(s.binding)));
  return exts;
}

async function buildCertificate(s: SubjectFields, issuer: { mode: CertMode; address: Uint8Array; dn: x509.JsonName; key: KeyPair }, v: CertificateValidity): Promise<string> {
  const { notBefore, notAfter } = validityOf(v);
  const subjectKey = await webcrypto.subtle.importKey('jwk', p256Jwk(s.subjectKey), ECDSA_P256, true, ['verify']);
  const signer = await cryptoKeys(issuer.key);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
    new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: s.name }], false),
    await x509.SubjectKeyIdentifierExtension.create(subjectKey),
    ...(issuer.mode === 'ca' ? [await x509.AuthorityKeyIdentifierExtension.create(signer.publicKey)] : []),
    new x509.Extension(CERT_OID.issuer, false, encodeIssuerExt(issuer.mode, issuer.address)),
    ...subjectExtensions(s),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [s.name] }],
    issuer: issuer.dn,
    notBefore,
    notAfter,
    publicKey: subjectKey,
    signingKey: signer.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions,
  });
  return cert.toString('pem') + '\n';
}

/**
 * The subject key for an online key: the online key itself when it is P-256 (unless
 * `separateTlsKey`), else `tlsKey` or a fresh P-256 key. The binding signature is made only for a
 * separate key.
 */
function subjectFor(chainId: string, name: string, online: KeyPair, opts: { tlsKey?: KeyPair; separateTlsKey?: boolean }): { fields: SubjectFields; tlsKey: KeyPair } {
  checkName(name);
  const onlineId: OnlineIdentity = { keyType: online.type, address: addressOf(online.type, online.publicKey), pub: online.publicKey };
  const useOnline = opts.tlsKey === undefined && online.type === KeyType.p256 && opts.separateTlsKey !== true;
  const tlsKey = opts.tlsKey ?? (useOnline ? online : generateP256());
  requireP256(tlsKey, 'TLS key');
  const same = tlsKey.type === online.type && bytesEqual(tlsKey.publicKey, online.publicKey);
  return {
    fields: { chainId, name, online: onlineId, subjectKey: tlsKey.publicKey, binding: same ? undefined : signKeyBinding(online, chainId, name, tlsKey.publicKey) },
    tlsKey,
  };
}

function generateP256(): KeyPair {
  const c = curveOf(KeyType.p256);
  const privateKey = c.utils.randomSecretKey();
  return { type: KeyType.p256, privateKey, publicKey: c.getPublicKey(privateKey, true) };
}

export interface SelfSignInput extends CertificateValidity {
  chainId: string;
  name: string;
  /** The entity's online key (secp256k1 or P-256). */
  online: KeyPair;
  /** A P-256 key to certify instead of the online key (default: the online key if P-256, else a new key). */
  tlsKey?: KeyPair;
  /** Use a new P-256 TLS key even when the online key is P-256. */
  separateTlsKey?: boolean;
}

/** Fully decentralized mode (SCPKI): a certificate signed by its own subject key. */
export async function selfSignCertificate(input: SelfSignInput): Promise<{ certPem: string; tlsKey: KeyPair }> {
  const { fields, tlsKey } = subjectFor(input.chainId, input.name, input.online, input);
  const certPem = await buildCertificate(fields, { mode: 'self', address: fields.online.address, dn: [{ CN: [input.name] }], key: tlsKey }, input);
  return { certPem, tlsKey };
}

export interface RequestInput {
  chainId: string;
  name: string;
  online: KeyPair;
  tlsKey?: KeyPair;
  separateTlsKey?: boolean;
}

/**
 * Quasi-centralized mode, step 1 (the entity): a PKCS#10 request signed by the subject key (proof
 * of possession) carrying the chain, hash-algorithm, online-key and key-binding extensions.
 */
export async function createCertificateRequest(input: RequestInput): Promise<{ requestPem: string; tlsKey: KeyPair }> {
  const { fields, tlsKey } = subjectFor(input.chainId, input.name, input.online, input);
  const keys = await cryptoKeys(tlsKey);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [input.name] }],
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: input.name }], false), ...subjectExtensions(fields)],
  });
  return { requestPem: csr.toString('pem') + '\n', tlsKey };
}

/** A checked certificate request. */
export interface CertificateRequestInfo extends SubjectFields {
  requestDer: Uint8Array;
}

function pemOrDer(input: string | Uint8Array, label: string): Uint8Array {
  if (typeof input !== 'string') return input;
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`, 'g');
  const blocks = [...input.matchAll(re)];
  if (blocks.length !== 1) throw new InvalidMessageError(CERT_ERR.MALFORMED, `expected exactly one PEM "${label}" block, found ${blocks.length}`);
  return new Uint8Array(Buffer.from(blocks[0]![1]!.replace(/\s+/g, ''), 'base64'));
}

/** The iotchain extensions of a certificate or request, each decoded or with its problem. */
interface RawExtensions {
  byOid: Map<string, Uint8Array[]>;
}

function collectExtensions(exts: readonly x509.Extension[]): RawExtensions {
  const byOid = new Map<string, Uint8Array[]>();
  for (const e of exts) {
    const list = byOid.get(e.type) ?? [];
    list.push(new Uint8Array(e.value));
    byOid.set(e.type, list);
  }
  return { byOid };
}

type ExtName = keyof typeof CERT_OID;

/** Decodes one extension; records a reason (missing, duplicate, malformed) and returns undefined on failure. */
function decodeExt<T>(raw: RawExtensions, which: ExtName, decodeValue: (v: Uint8Array) => T, reasons: CertReason[], required: boolean): T | undefined {
  const values = raw.byOid.get(CERT_OID[which]) ?? [];
  if (values.length === 0) {
    if (required) reasons.push({ code: CERT_ERR.EXT_MISSING, message: `the ${which} extension (${CERT_OID[which]}) is missing` });
    return undefined;
  }
  if (values.length > 1) {
    reasons.push({ code: CERT_ERR.EXT_DUPLICATE, message: `the ${which} extension (${CERT_OID[which]}) appears ${values.length} times` });
    return undefined;
  }
  try {
    return decodeValue(values[0]!);
  } catch (e) {
    reasons.push({ code: CERT_ERR.EXT_MALFORMED, message: `the ${which} extension (${CERT_OID[which]}) is malformed: ${e instanceof Error ? e.message : String(e)}` });
    return undefined;
  }
}

/**
 * Checks a certificate request (the CA's side): its signature (possession of the subject key),
 * chain, name syntax, online identity and key binding. Throws CERT_BAD_REQUEST listing every problem.
 */
export async function checkCertificateRequest(input: string | Uint8Array, chainId: string): Promise<CertificateRequestInfo> {
  const der = pemOrDer(input, 'CERTIFICATE REQUEST');
  if (der.length > MAX_CERT_BYTES) throw new InvalidMessageError(CERT_ERR.BAD_REQUEST, `request is larger than ${MAX_CERT_BYTES} bytes`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch (e) {
    throw new InvalidMessageError(CERT_ERR.BAD_REQUEST, `not a PKCS#10 request: ${e instanceof Error ? e.message : String(e)}`);
  }
  const reasons: CertReason[] = [];
  let subjectKey: Uint8Array | undefined;
  try {
    subjectKey = compressedP256(createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' }));
  } catch {
    subjectKey = undefined;
  }
  if (!subjectKey) reasons.push({ code: CERT_ERR.KEY_NOT_P256, message: 'the requested subject key is not a P-256 key' });
  else if (!(await csr.verify().catch(() => false))) reasons.push({ code: CERT_ERR.BAD_SIGNATURE, message: 'the request is not signed by its subject key' });
  const raw = collectExtensions(csr.extensions);
  const chain = decodeExt(raw, 'chain', decodeChainExt, reasons, true);
  const hash = decodeExt(raw, 'hashAlgorithm', decodeHashExt, reasons, true);
  const online = decodeExt(raw, 'onlineKey', decodeOnlineKeyExt, reasons, true);
  const binding = decodeExt(raw, 'keyBinding', decodeBindingExt, reasons, false);
  const cn = csr.subjectName.getField('CN');
  const name = cn.length === 1 ? cn[0]! : '';
  const why = nameSyntaxError(name);
  if (why) reasons.push({ code: CERT_ERR.NAME_MISMATCH, message: `the request's CN is not a valid name: ${why}` });
  if (chain && chain.chainId !== chainId) reasons.push({ code: CERT_ERR.WRONG_CHAIN, message: `the request is for chain ${chain.chainId}, not ${chainId}` });
  if (chain && chain.registry !== CERT_REGISTRY) reasons.push({ code: CERT_ERR.WRONG_REGISTRY, message: `the request names registry ${chain.registry}` });
  if (hash !== undefined && hash !== SHA256_OID) reasons.push({ code: CERT_ERR.HASH_UNSUPPORTED, message: `hash algorithm ${hash} is not SHA-256` });
  if (online) checkOnline(online, reasons);
  if (online && subjectKey && chain) checkBinding({ chainId: chain.chainId, name, online, subjectKey, binding }, reasons);
  if (reasons.length > 0 || !online || !subjectKey || !chain) {
    throw new InvalidMessageError(CERT_ERR.BAD_REQUEST, `the certificate request is refused: ${reasons.map((r) => r.message).join('; ')}`, { reasons });
  }
  return { requestDer: der, chainId: chain.chainId, name, online, subjectKey, binding };
}

export interface IssueInput extends CertificateValidity {
  /** The PKCS#10 request (PEM or DER) from createCertificateRequest. */
  request: string | Uint8Array;
  chainId: string;
  /** The CA's offline address (how the chain names a CA). */
  caAddress: Uint8Array;
  /** The CA's online key: P-256, registered on chain for caAddress. */
  caKey: KeyPair;
}

/** Quasi-centralized mode, step 2 (the CA): checks the request and issues the certificate. */
export async function issueCertificate(input: IssueInput): Promise<{ certPem: string; request: CertificateRequestInfo }> {
  if (input.caKey.type !== KeyType.p256) throw new InvalidMessageError(CERT_ERR.CA_KEY_NOT_P256, "the CA's online key must be P-256 to sign X.509 certificates that TLS stacks accept");
  const request = await checkCertificateRequest(input.request, input.chainId);
  const dn: x509.JsonName = [{ CN: [`iotchain CA ${toChecksumAddress(input.caAddress)}`] }, { O: [input.chainId] }];
  const certPem = await buildCertificate(request, { mode: 'ca', address: input.caAddress, dn, key: input.caKey }, input);
  return { certPem, request };
}

// ---------------------------------------------------------------------------------------------
// Parsing and verification (the X.509 half)

export interface ParsedCertificate {
  der: Uint8Array;
  serial: string;
  /** Subject CN (the name the certificate is for). */
  subjectName: string;
  issuerDn: string;
  dnsNames: string[];
  notBefore: number;
  notAfter: number;
  /** Compressed P-256 subject key, or undefined if the key is not P-256. */
  subjectKey: Uint8Array | undefined;
  /** Fields of the iotchain extensions (undefined where missing or malformed: see the reasons). */
  chainId: string | undefined;
  registry: string | undefined;
  mode: CertMode | undefined;
  issuerAddress: Uint8Array | undefined;
  hashAlgorithm: string | undefined;
  online: OnlineIdentity | undefined;
  binding: Uint8Array | undefined;
}

function checkOnline(o: OnlineIdentity, reasons: CertReason[]): void {
  if (!bytesEqual(addressOf(o.keyType, o.pub), o.address)) {
    reasons.push({ code: CERT_ERR.ONLINE_ADDRESS_MISMATCH, message: `the online address ${toHex(o.address)} is not the address of the online public key` });
  }
}

function checkBinding(s: { chainId: string; name: string; online: OnlineIdentity; subjectKey: Uint8Array; binding: Uint8Array | undefined }, reasons: CertReason[]): void {
  const same = s.online.keyType === KeyType.p256 && bytesEqual(s.online.pub, s.subjectKey);
  if (!s.binding) {
    if (!same) reasons.push({ code: CERT_ERR.BINDING_MISSING, message: 'the subject key is not the online key and no key-binding signature ties it to the online identity' });
    return;
  }
  if (!verifyKeyBinding(s.online, s.chainId, s.name, s.subjectKey, s.binding)) {
    reasons.push({ code: CERT_ERR.BAD_BINDING, message: `the key-binding signature is not the online key ${toHex(s.online.address)}'s signature over this TLS key, name and chain` });
  }
}

/** Parses a certificate (PEM or DER). Throws CERT_MALFORMED only when it is not an X.509 certificate at all. */
export function parseCertificate(input: string | Uint8Array, reasons: CertReason[] = []): ParsedCertificate {
  const der = pemOrDer(input, 'CERTIFICATE');
  if (der.length > MAX_CERT_BYTES) throw new InvalidMessageError(CERT_ERR.MALFORMED, `certificate is larger than ${MAX_CERT_BYTES} bytes`);
  let node: NodeX509Certificate;
  let cert: x509.X509Certificate;
  try {
    node = new NodeX509Certificate(der);
    cert = new x509.X509Certificate(der);
  } catch (e) {
    throw new InvalidMessageError(CERT_ERR.MALFORMED, `not an X.509 certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
  const sigAlg = cert.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  if (sigAlg.name !== 'ECDSA' || sigAlg.hash?.name !== 'SHA-256') reasons.push({ code: CERT_ERR.SIGNATURE_ALGORITHM, message: 'the certificate is not signed with ecdsa-with-SHA256' });
  const subjectKey = compressedP256(node.publicKey);
  if (!subjectKey) reasons.push({ code: CERT_ERR.KEY_NOT_P256, message: 'the subject key is not a P-256 key' });
  const raw = collectExtensions(cert.extensions);
  const chain = decodeExt(raw, 'chain', decodeChainExt, reasons, true);
  const issuer = decodeExt(raw, 'issuer', decodeIssuerExt, reasons, true);
  const hashAlgorithm = decodeExt(raw, 'hashAlgorithm', decodeHashExt, reasons, true);
  const online = decodeExt(raw, 'onlineKey', decodeOnlineKeyExt, reasons, true);
  const binding = decodeExt(raw, 'keyBinding', decodeBindingExt, reasons, false);
  const cn = cert.subjectName.getField('CN');
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const dnsNames = san ? san.names.items.filter((n) => n.type === 'dns').map((n) => n.value) : [];
  return {
    der,
    serial: cert.serialNumber,
    subjectName: cn.length === 1 ? cn[0]! : '',
    issuerDn: cert.issuer,
    dnsNames,
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    subjectKey,
    chainId: chain?.chainId,
    registry: chain?.registry,
    mode: issuer?.mode,
    issuerAddress: issuer?.address,
    hashAlgorithm,
    online,
    binding,
  };
}

export interface VerifyCertificateOptions {
  /** Client clock (ms) for the validity period. */
  now: number;
  chainId: string;
  /** The name the certificate must be for (subject CN and a SAN dNSName). */
  name?: string;
  /**
   * The CA's online key (from the chain) for a CA-issued certificate. Undefined: the CA signature
   * is not checked (reported in `caSignature: 'skipped'`).
   */
  caKey?: { keyType: KeyType; pub: Uint8Array };
}

export interface CertificateCheck {
  valid: boolean;
  reasons: CertReason[];
  cert: ParsedCertificate | undefined;
  /** Whether the CA's signature was checked (CA-issued certificates only). */
  caSignature: 'checked' | 'skipped' | 'n/a';
}

/** The X.509 half: every reason the certificate itself fails, with no chain facts. */
export function verifyCertificate(input: string | Uint8Array, opts: VerifyCertificateOptions): CertificateCheck {
  const reasons: CertReason[] = [];
  let c: ParsedCertificate;
  try {
    c = parseCertificate(input, reasons);
  } catch (e) {
    return { valid: false, reasons: [{ code: CERT_ERR.MALFORMED, message: e instanceof Error ? e.message : String(e) }], cert: undefined, caSignature: 'n/a' };
  }
  if (c.hashAlgorithm !== undefined && c.hashAlgorithm !== SHA256_OID) reasons.push({ code: CERT_ERR.HASH_UNSUPPORTED, message: `hash algorithm ${c.hashAlgorithm} is not SHA-256 (${SHA256_OID})` });
  if (c.chainId !== undefined && c.chainId !== opts.chainId) reasons.push({ code: CERT_ERR.WRONG_CHAIN, message: `the certificate is for chain ${c.chainId}, not ${opts.chainId}` });
  if (c.registry !== undefined && c.registry !== CERT_REGISTRY) reasons.push({ code: CERT_ERR.WRONG_REGISTRY, message: `the certificate names registry ${c.registry}, not ${CERT_REGISTRY}` });
  if (c.online) checkOnline(c.online, reasons);
  if (opts.name !== undefined && (c.subjectName !== opts.name || !c.dnsNames.includes(opts.name))) {
    reasons.push({ code: CERT_ERR.NAME_MISMATCH, message: `the certificate is for ${c.subjectName || '(no CN)'} (SAN ${c.dnsNames.join(', ') || 'none'}), not ${opts.name}` });
  } else if (opts.name === undefined && !c.dnsNames.includes(c.subjectName)) {
    reasons.push({ code: CERT_ERR.NAME_MISMATCH, message: `the subject CN ${c.subjectName || '(none)'} is not among the SAN dNSNames` });
  }
  if (opts.now < c.notBefore) reasons.push({ code: CERT_ERR.NOT_YET_VALID, message: `the certificate is valid only from ${new Date(c.notBefore).toISOString()}` });
  if (opts.now > c.notAfter) reasons.push({ code: CERT_ERR.EXPIRED, message: `the certificate expired at ${new Date(c.notAfter).toISOString()}` });
  if (c.online && c.subjectKey && c.chainId !== undefined) {
    checkBinding({ chainId: c.chainId, name: c.subjectName, online: c.online, subjectKey: c.subjectKey, binding: c.binding }, reasons);
  }
  const node = new NodeX509Certificate(c.der);
  let caSignature: CertificateCheck['caSignature'] = 'n/a';
  if (c.mode === 'self') {
    if (c.online && c.issuerAddress && !bytesEqual(c.issuerAddress, c.online.address)) {
      reasons.push({ code: CERT_ERR.ISSUER_MISMATCH, message: 'a self-signed certificate must name its own online address as issuer' });
    }
    if (node.issuer !== node.subject) reasons.push({ code: CERT_ERR.ISSUER_MISMATCH, message: 'a self-signed certificate must have issuer DN = subject DN' });
    if (c.subjectKey && !node.verify(node.publicKey)) reasons.push({ code: CERT_ERR.BAD_SIGNATURE, message: 'the certificate is not signed by its own subject key' });
  } else if (c.mode === 'ca') {
    if (!opts.caKey) caSignature = 'skipped';
    else {
      caSignature = 'checked';
      if (opts.caKey.keyType !== KeyType.p256) reasons.push({ code: CERT_ERR.CA_KEY_NOT_P256, message: "the CA's registered online key is not P-256, so it cannot have signed this certificate" });
      else if (!node.verify(p256PublicKeyObject(opts.caKey.pub))) reasons.push({ code: CERT_ERR.BAD_CA_SIGNATURE, message: "the certificate is not signed by the CA's registered online key" });
    }
  }
  return { valid: reasons.length === 0, reasons, cert: c, caSignature };
}

// ---------------------------------------------------------------------------------------------
// The chain's half: the identity module's certificateFacts, through a small interface

/** Arguments of the identity module's `certificateFacts` query. */
export interface CertificateFactsQuery {
  name: string;
  /** The online address the certificate binds. */
  online: Uint8Array;
  /** The issuing CA's offline address (CA-issued certificates). */
  ca: Uint8Array | undefined;
}

/**
 * What the chain says about a certificate's name, key and CA (a typed view of the identity
 * module's `certificateFacts` answer, which a client should obtain as a proven query).
 */
export interface CertificateChainFacts {
  /** Block time (ms) the facts hold at. */
  time: number;
  /** The identity module's own reasons (NAME_*, KEY_*, CA_* codes). */
  reasons: string[];
  name: { name: string; state: string; owner: Uint8Array | undefined; ip: string | undefined; expires: number | undefined };
  key: {
    online: Uint8Array;
    /** unregistered | active | revoked | closed */
    state: string;
    owner: Uint8Array | undefined;
    keyType: KeyType | undefined;
    pub: Uint8Array | undefined;
    /** Height at which the key was revoked (updatePublicKey or closePublicKey), if it was. */
    revokedAt: number | undefined;
    matchesDomain: boolean;
  };
  ca: { address: Uint8Array; registered: boolean; keyActive: boolean; keyType: KeyType | undefined; pub: Uint8Array | undefined } | undefined;
  trust: { level: number; stake: bigint } | undefined;
}

/** A source of chain facts (a proven RPC query in production, a fake in tests). */
export type CertificateFactsSource = (q: CertificateFactsQuery) => Promise<CertificateChainFacts>;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses the JSON answer of `identity/certificateFacts`. Throws ENCODING_INVALID on a bad shape. */
export function certificateFactsFromJson(v: unknown): CertificateChainFacts {
  const bad = (what: string): never => {
    throw new InvalidMessageError(ERR.ENCODING, `certificateFacts answer: ${what}`);
  };
  const optHex = (x: unknown, what: string, len: number): Uint8Array | undefined => (x === null || x === undefined ? undefined : typeof x === 'string' ? fromHex(x, what, len) : bad(`${what} is not hex`));
  const optNum = (x: unknown, what: string): number | undefined => (x === null || x === undefined ? undefined : typeof x === 'number' && Number.isSafeInteger(x) ? x : bad(`${what} is not an integer`));
  const keyTypeOf = (x: unknown): KeyType | undefined => (x === 'secp256k1' ? KeyType.secp256k1 : x === 'p256' ? KeyType.p256 : x === null || x === undefined ? undefined : bad(`unknown key type ${String(x)}`));
  if (!isObj(v) || !isObj(v.name) || !isObj(v.key) || !Array.isArray(v.reasons)) return bad('expected {reasons, name, key, ca, trust, time}');
  const n = v.name;
  const k = v.key;
  const ca = v.ca;
  const trust = v.trust;
  if (typeof n.name !== 'string' || typeof n.state !== 'string') bad('name.name/state');
  if (typeof k.online !== 'string' || typeof k.state !== 'string' || typeof k.matchesDomain !== 'boolean') bad('key.online/state/matchesDomain');
  return {
    time: optNum(v.time, 'time') ?? bad('time missing'),
    reasons: v.reasons.map((r) => (typeof r === 'string' ? r : bad('reasons must be strings'))),
    name: { name: n.name as string, state: n.state as string, owner: optHex(n.owner, 'name.owner', 20), ip: typeof n.ip === 'string' ? n.ip : undefined, expires: optNum(n.expires, 'name.expires') },
    key: {
      online: fromHex(k.online as string, 'key.online', 20),
      state: k.state as string,
      owner: optHex(k.owner, 'key.owner', 20),
      keyType: keyTypeOf(k.keyType),
      pub: optHex(k.pub, 'key.pub', 33),
      revokedAt: optNum(k.revokedAt, 'key.revokedAt'),
      matchesDomain: k.matchesDomain as boolean,
    },
    ca: isObj(ca)
      ? {
          address: typeof ca.address === 'string' ? fromHex(ca.address, 'ca.address', 20) : bad('ca.address'),
          registered: ca.registered === true,
          keyActive: ca.keyActive === true,
          keyType: keyTypeOf(ca.keyType),
          pub: optHex(ca.pub, 'ca.pub', 33),
        }
      : ca === null || ca === undefined
        ? undefined
        : bad('ca'),
    trust: isObj(trust) ? { level: optNum(trust.level, 'trust.level') ?? 0, stake: typeof trust.stake === 'string' && /^[0-9]+$/.test(trust.stake) ? BigInt(trust.stake) : 0n } : undefined,
  };
}

/** Human messages for the identity module's certificate reasons. */
function chainReason(code: string, f: CertificateChainFacts): CertReason {
  const name = f.name.name;
  const online = toHex(f.key.online);
  const messages: Record<string, string> = {
    NAME_NOT_REGISTERED: `name ${name} is not registered on chain`,
    NAME_EXPIRED: `name ${name} expired on chain${f.name.expires !== undefined ? ` at ${new Date(f.name.expires).toISOString()}` : ''}`,
    NAME_OWNER_CLOSED: `the owner of ${name} closed its key: the name is unusable`,
    KEY_NOT_REGISTERED: `online key ${online} is not registered on chain`,
    KEY_REVOKED: `online key ${online} was revoked at height ${f.key.revokedAt ?? '?'} (updatePublicKey): its certificates are void`,
    KEY_CLOSED: `online key ${online} belongs to a closed identity (closePublicKey${f.key.revokedAt !== undefined ? ` at height ${f.key.revokedAt}` : ''})`,
    KEY_NOT_DOMAIN_OWNER: `online key ${online} does not belong to the owner of ${name}`,
    CA_NOT_REGISTERED: `the issuer ${f.ca ? toHex(f.ca.address) : '?'} is not a registered CA`,
    CA_KEY_INACTIVE: `the CA ${f.ca ? toHex(f.ca.address) : '?'} has no active online key`,
  };
  return { code, message: messages[code] ?? `chain reports ${code}` };
}

export interface ChainCheckOptions extends Omit<VerifyCertificateOptions, 'caKey'> {
  name: string;
  /** Least web-of-trust level for a self-signed certificate (default 0). */
  minTrustLevel?: number;
}

export interface CertificateVerdict {
  valid: boolean;
  reasons: CertReason[];
  cert: ParsedCertificate | undefined;
  facts: CertificateChainFacts | undefined;
}

function addOnce(reasons: CertReason[], r: CertReason): void {
  if (!reasons.some((x) => x.code === r.code)) reasons.push(r);
}

/**
 * Both halves: the X.509 checks (the CA signature against the CA's key on chain) plus the chain's
 * facts (key registered and active, not revoked or closed, owner of the name, name not expired,
 * CA registered, trust level). Every failing reason is returned.
 */
export function checkCertificateWithFacts(input: string | Uint8Array, facts: CertificateChainFacts, opts: ChainCheckOptions): CertificateVerdict {
  const caKey = facts.ca?.pub !== undefined && facts.ca.keyType !== undefined ? { keyType: facts.ca.keyType, pub: facts.ca.pub } : undefined;
  const x = verifyCertificate(input, { now: opts.now, chainId: opts.chainId, name: opts.name, ...(caKey ? { caKey } : {}) });
  const reasons = [...x.reasons];
  const c = x.cert;
  if (c) {
    if (facts.name.name !== opts.name || (c.online && !bytesEqual(facts.key.online, c.online.address))) {
      reasons.push({ code: CERT_ERR.FACTS_MISMATCH, message: 'the chain facts are about another name or key than this certificate' });
    }
    if (c.mode === 'ca') {
      if (!facts.ca || (c.issuerAddress && !bytesEqual(facts.ca.address, c.issuerAddress))) reasons.push({ code: CERT_ERR.CA_UNKNOWN, message: 'no chain facts about the issuing CA' });
      else if (!caKey && facts.ca.registered) reasons.push({ code: CERT_ERR.BAD_CA_SIGNATURE, message: "the CA's signature cannot be checked: the CA has no active online key" });
    }
    if (c.online && facts.key.pub && (facts.key.keyType !== c.online.keyType || !bytesEqual(facts.key.pub, c.online.pub))) {
      reasons.push({ code: CERT_ERR.KEY_MISMATCH, message: 'the online public key in the certificate differs from the one registered on chain' });
    }
    const min = opts.minTrustLevel ?? 0;
    if (c.mode === 'self' && min > 0 && (facts.trust?.level ?? 0) < min) {
      reasons.push({ code: CERT_ERR.TRUST_TOO_LOW, message: `web-of-trust level ${facts.trust?.level ?? 0} is below the required ${min}` });
    }
  }
  for (const code of facts.reasons) addOnce(reasons, chainReason(code, facts));
  if (facts.name.expires !== undefined && opts.now >= facts.name.expires) addOnce(reasons, chainReason('NAME_EXPIRED', facts));
  return { valid: reasons.length === 0, reasons, cert: c, facts };
}

/** Parses the certificate, asks `source` for the chain facts it needs, and checks both halves. */
export async function verifyCertificateOnChain(input: string | Uint8Array, source: CertificateFactsSource, opts: ChainCheckOptions): Promise<CertificateVerdict> {
  let c: ParsedCertificate;
  try {
    c = parseCertificate(input);
  } catch (e) {
    return { valid: false, reasons: [{ code: CERT_ERR.MALFORMED, message: e instanceof Error ? e.message : String(e) }], cert: undefined, facts: undefined };
  }
  if (!c.online) {
    const x = verifyCertificate(c.der, { now: opts.now, chainId: opts.chainId, name: opts.name });
    return { valid: false, reasons: x.reasons, cert: c, facts: undefined };
  }
  const facts = await source({ name: opts.name, online: c.online.address, ca: c.mode === 'ca' ? c.issuerAddress : undefined });
  return checkCertificateWithFacts(c.der, facts, opts);
}

/** A JSON summary of a parsed certificate (CLI, logs). */
export function certificateSummary(c: ParsedCertificate): Record<string, unknown> {
  return {
    name: c.subjectName,
    dnsNames: c.dnsNames,
    mode: c.mode ?? null,
    chainId: c.chainId ?? null,
    issuer: c.issuerDn,
    issuerAddress: c.issuerAddress ? toChecksumAddress(c.issuerAddress) : null,
    online: c.online ? { address: toChecksumAddress(c.online.address), keyType: CURVE_NAMES[c.online.keyType], pub: toHex(c.online.pub) } : null,
    subjectKey: c.subjectKey ? toHex(c.subjectKey) : null,
    subjectKeyIsOnlineKey: !!(c.subjectKey && c.online && c.online.keyType === KeyType.p256 && bytesEqual(c.subjectKey, c.online.pub)),
    keyBinding: c.binding !== undefined,
    hashAlgorithm: c.hashAlgorithm ?? null,
    serial: c.serial,
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
  };
}
