// Synthetic signed readings for a table (`iotchain data ingest`): each reading goes device → gateway(s)
// → service through the chain-of-signatures library (Fig. 5a; every fourth through two gateways, Fig.
// 5b), with deterministic-looking data. The service is the KEYDIR's online key; the devices and
// gateways are synthetic P-256 keys derived from it (the curve IoT secure elements sign with), so a
// later ingest into the same table continues with the same devices and increasing sequence numbers.
// Off-chain: the state machine never imports this file.
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { sha256 } from '../../crypto/hash.js';
import { KeyType, addressOf, curveOf, keyPairFromPrivate, uncompressPublicKey, type KeyPair } from '../../crypto/keys.js';
import { readUintBE, uintBE, utf8 } from '../../lib/hex.js';
import { chainSigner, countersignReading, signReading, type ChainSigner } from './signatureChain.js';
import type { DataStore, NewRow } from './dataStore.js';
import type { DirectoryEntry } from './keyHistory.js';
import type { Row } from './rows.js';

const DERIVE_TAG = utf8('iotchain/ingest/synthetic-key/v1\0');
/** First synthetic timestamp (ms); reading i is taken at T0 + i seconds. */
export const SYNTHETIC_T0 = 1_700_000_000_000;

/**
 * An OpenSSL signer for P-256 (about 10× faster than the pure-JS one here), normalized to low-s;
 * other curves keep crypto/sign.ts. Signatures are ordinary 64-byte low-s ECDSA over SHA-256.
 */
export function fastChainSigner(key: KeyPair, address?: Uint8Array): ChainSigner {
  const base = chainSigner(key, address);
  if (key.type !== KeyType.p256) return base;
  const pub = uncompressPublicKey(key.type, key.publicKey);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const ko: KeyObject = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64(key.privateKey), x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33, 65)) }, format: 'jwk' });
  const n = curveOf(key.type).Point.CURVE().n;
  return {
    ...base,
    sign(message) {
      const sig = new Uint8Array(nodeSign('sha256', message, { key: ko, dsaEncoding: 'ieee-p1363' }));
      const s = readUintBE(sig.subarray(32));
      if (s > n >> 1n) sig.set(uintBE(n - s, 32), 32);
      return sig;
    },
  };
}

function deriveKey(service: KeyPair, role: string, index: number): KeyPair {
  for (let ctr = 0; ; ctr++) {
    const d = sha256(DERIVE_TAG, service.privateKey, utf8(role), uintBE(index, 4), uintBE(ctr, 4));
    try {
      return keyPairFromPrivate(KeyType.p256, d);
    } catch {
      // not a valid scalar (probability ~2^-32): try the next counter
    }
  }
}

export interface SyntheticSigners {
  devices: ChainSigner[];
  gateways: ChainSigner[];
  service: ChainSigner;
  /** Public keys of all of them, for the auditor's key directory. */
  directory: DirectoryEntry[];
}

/** `identity`: the address the service signs as (its offline identity; default its online key's address). */
export function syntheticSigners(service: KeyPair, deviceCount = 8, gatewayCount = 2, identity?: Uint8Array): SyntheticSigners {
  const devices = Array.from({ length: deviceCount }, (_, i) => deriveKey(service, 'device', i));
  const gateways = Array.from({ length: gatewayCount }, (_, i) => deriveKey(service, 'gateway', i));
  const entry = (k: KeyPair, role: string): DirectoryEntry => ({ address: addressOf(k.type, k.publicKey), type: k.type, publicKey: k.publicKey, role });
  return {
    devices: devices.map((k) => fastChainSigner(k)),
    gateways: gateways.map((k) => fastChainSigner(k)),
    service: fastChainSigner(service, identity),
    directory: [
      ...devices.map((k, i) => entry(k, `device-${i}`)),
      ...gateways.map((k, i) => entry(k, `gateway-${i}`)),
      { ...entry(service, 'service'), ...(identity ? { address: identity } : {}) },
    ],
  };
}

/** Reading number i: a temperature and humidity that drift smoothly (deterministic). */
export function syntheticData(i: number): Uint8Array {
  const t = 21 + 4 * Math.sin(i / 37) + ((i * 7919) % 100) / 400;
  const h = 45 + 10 * Math.cos(i / 53) + ((i * 104729) % 100) / 200;
  return utf8(`t=${t.toFixed(2)};h=${h.toFixed(1)}`);
}

/** Reading i: device i mod D; seq i + 1 (increasing per device); through two gateways when i mod 4 = 3. */
export function syntheticReading(signers: SyntheticSigners, i: number): NewRow {
  const device = signers.devices[i % signers.devices.length]!;
  let env = signReading(device, { seq: i + 1, timestamp: SYNTHETIC_T0 + i * 1000, data: syntheticData(i) });
  env = countersignReading(env, 'gateway', signers.gateways[0]!);
  if (i % 4 === 3 && signers.gateways.length > 1) env = countersignReading(env, 'gateway', signers.gateways[1]!);
  env = countersignReading(env, 'service', signers.service);
  return { groupId: undefined, kind: 'reading', envelope: env };
}

export interface IngestOptions {
  store: DataStore;
  table: string;
  count: number;
  /** The service's online key, and the identity it signs as (default: the key's address). */
  service: KeyPair;
  identity?: Uint8Array;
  devices?: number;
  /** Rows per append (one transaction / batch each). Default 1000. */
  chunk?: number;
  onProgress?: (done: number) => void;
}

export interface IngestResult {
  rows: number;
  firstId: number | undefined;
  lastId: number | undefined;
  directory: DirectoryEntry[];
}

/** Appends `count` signed readings, numbering them after the rows already in the table. */
export async function ingestReadings(o: IngestOptions): Promise<IngestResult> {
  const signers = syntheticSigners(o.service, o.devices ?? 8, 2, o.identity);
  const start = await o.store.count(o.table);
  const chunk = o.chunk ?? 1000;
  let first: Row | undefined;
  let last: Row | undefined;
  for (let done = 0; done < o.count; ) {
    const k = Math.min(chunk, o.count - done);
    const rows = Array.from({ length: k }, (_, j) => syntheticReading(signers, start + done + j));
    const stored = await o.store.append(o.table, rows);
    first ??= stored[0];
    last = stored[stored.length - 1] ?? last;
    done += k;
    o.onProgress?.(done);
  }
  return { rows: o.count, firstId: first?.id, lastId: last?.id, directory: signers.directory };
}
