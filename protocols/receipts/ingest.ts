// Synthetic signed readings for a table (`iotchain data ingest`): each reading goes device → gateway(s)
// → service through the chain-of-signatures library (Fig. 5a; every fourth through two gateways, Fig.
// 5b), with deterministic-looking data. The service is the KEYDIR's online key; the devices and
// gateways are synthetic P-256 keys derived from it (the curve IoT secure elements sign with), so a
// later ingest into the same table continues with the same devices and increasing sequence numbers.
//
// With a gateway table (`--gateway-table`), ingest writes the two tables of Fig. 5e/5f: the service's
// table gets `count` rows cycling through the four flows (a reading via one gateway, a reading via
// two, an aggregate of 2–3 device readings under a groupId, a command's feedback under a groupId),
// and gateway 0's table gets what that gateway keeps of the same traffic: the member readings of
// each aggregate and the command and feedback of each command, under the same groupIds. The
// auditor cross-checks the two through groupId (auditorCrossCheck.ts).
// Off-chain: the state machine never imports this file.
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { sha256 } from '../../crypto/hash.js';
import { KeyType, addressOf, curveOf, keyPairFromPrivate, uncompressPublicKey, type KeyPair } from '../../crypto/keys.js';
import { readUintBE, uintBE, utf8 } from '../../lib/hex.js';
import {
  chainSigner,
  countersignAggregate,
  countersignFeedback,
  countersignReading,
  signAggregate,
  signCommand,
  signFeedback,
  signReading,
  type ChainSigner,
  type SignedReading,
} from './signatureChain.js';
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

function syntheticValues(i: number): { t: number; h: number } {
  return { t: 21 + 4 * Math.sin(i / 37) + ((i * 7919) % 100) / 400, h: 45 + 10 * Math.cos(i / 53) + ((i * 104729) % 100) / 200 };
}

/** Reading number i: a temperature and humidity that drift smoothly (deterministic). */
export function syntheticData(i: number): Uint8Array {
  const { t, h } = syntheticValues(i);
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

/** What one step of the Fig. 5e/5f traffic leaves in the service's table and in the gateway's. */
export interface GroupStep {
  service: NewRow;
  /** Rows of gateway 0's table, in the order it stores them (empty for plain readings). */
  gateway: NewRow[];
}

/**
 * Step i of the two-table traffic (Fig. 5e/5f), by i mod 4:
 *   0  a reading through gateway 0 (5a)               service only
 *   1  a reading through gateways 0 and 1 (5b)        service only
 *   2  gateway 0 aggregates 2–3 device readings (5c)  gateway: the member readings; service: the aggregate
 *   3  the service commands a device (5d)             gateway: the command and the feedback; service: the feedback
 * groupId = i + 1 (unique per gateway, since i counts the service's rows). Device sequence numbers are
 * 4i + 1 + j, command sequence numbers i + 1: both increase with i, across ingests too.
 */
export function syntheticGroupStep(signers: SyntheticSigners, i: number): GroupStep {
  const d = signers.devices.length;
  const gw = signers.gateways[0]!;
  const timestamp = SYNTHETIC_T0 + i * 1000;
  const device = signers.devices[i % d]!;
  switch (i % 4) {
    case 0:
    case 1: {
      let env = countersignReading(signReading(device, { seq: 4 * i + 1, timestamp, data: syntheticData(i) }), 'gateway', gw);
      if (i % 4 === 1 && signers.gateways.length > 1) env = countersignReading(env, 'gateway', signers.gateways[1]!);
      return { service: { groupId: undefined, kind: 'reading', envelope: countersignReading(env, 'service', signers.service) }, gateway: [] };
    }
    case 2: {
      const groupId = i + 1;
      const k = Math.min(d, 2 + ((i >> 2) & 1));
      const members: SignedReading[] = [];
      let t = 0;
      let h = 0;
      for (let j = 0; j < k; j++) {
        const v = syntheticValues(4 * i + j);
        t += v.t;
        h += v.h;
        members.push(signReading(signers.devices[(i + j) % d]!, { seq: 4 * i + 1 + j, timestamp: timestamp + j, data: syntheticData(4 * i + j) }).reading);
      }
      const aggr = utf8(`avg t=${(t / k).toFixed(2)};h=${(h / k).toFixed(1)};n=${k}`);
      const env = countersignAggregate(signAggregate(gw, { groupId, timestamp: timestamp + k, aggr }, members), 'service', signers.service);
      return {
        service: { groupId, kind: 'aggregate', envelope: env },
        gateway: members.map((reading) => ({ groupId, kind: 'reading' as const, envelope: { reading, gateways: [], service: undefined } })),
      };
    }
    default: {
      const groupId = i + 1;
      const command = signCommand(signers.service, { deviceId: device.address, seq: i + 1, timestamp, command: utf8(`set interval=${5 + (i % 10)}s`) });
      const feedback = signFeedback(device, command, { seq: 4 * i + 1, timestamp: timestamp + 1, feedback: utf8(`ok interval=${5 + (i % 10)}s`) });
      return {
        service: { groupId, kind: 'feedback', envelope: countersignFeedback(feedback, 'gateway', gw, groupId) },
        gateway: [
          { groupId, kind: 'command', envelope: command },
          { groupId, kind: 'feedback', envelope: feedback },
        ],
      };
    }
  }
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
  /**
   * Also write gateway 0's table (Fig. 5f) under this name, and make the service's `table` the
   * four-flow mix of Fig. 5e (syntheticGroupStep) instead of readings only.
   */
  gatewayTable?: string;
  /** Where the gateway's table lives (default: `store`). */
  gatewayStore?: DataStore;
}

export interface IngestResult {
  rows: number;
  firstId: number | undefined;
  lastId: number | undefined;
  directory: DirectoryEntry[];
  /** With a gateway table: the rows written to it. */
  gateway?: { table: string; rows: number; firstId: number | undefined; lastId: number | undefined; groups: number };
}

/** Appends `count` signed readings, numbering them after the rows already in the table. */
export async function ingestReadings(o: IngestOptions): Promise<IngestResult> {
  if (o.gatewayTable !== undefined) return ingestGroups(o, o.gatewayTable);
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

/** The two-table form of ingestReadings: `count` service rows, and gateway 0's rows of the same traffic. */
async function ingestGroups(o: IngestOptions, gatewayTable: string): Promise<IngestResult> {
  const signers = syntheticSigners(o.service, o.devices ?? 8, 2, o.identity);
  const gwStore = o.gatewayStore ?? o.store;
  if (gwStore === o.store && gatewayTable === o.table) throw new RangeError('the gateway table must differ from the service table');
  const start = await o.store.count(o.table);
  const chunk = o.chunk ?? 1000;
  const svc: { first?: Row; last?: Row } = {};
  const gw: { first?: Row; last?: Row; rows: number; groups: number } = { rows: 0, groups: 0 };
  for (let done = 0; done < o.count; ) {
    const k = Math.min(chunk, o.count - done);
    const steps = Array.from({ length: k }, (_, j) => syntheticGroupStep(signers, start + done + j));
    // The gateway stores its rows before it forwards anything to the service.
    const gwRows = steps.flatMap((s) => s.gateway);
    if (gwRows.length > 0) {
      const stored = await gwStore.append(gatewayTable, gwRows);
      gw.first ??= stored[0];
      gw.last = stored[stored.length - 1] ?? gw.last;
      gw.rows += stored.length;
      gw.groups += steps.filter((s) => s.gateway.length > 0).length;
    }
    const stored = await o.store.append(o.table, steps.map((s) => s.service));
    svc.first ??= stored[0];
    svc.last = stored[stored.length - 1] ?? svc.last;
    done += k;
    o.onProgress?.(done);
  }
  return {
    rows: o.count,
    firstId: svc.first?.id,
    lastId: svc.last?.id,
    directory: signers.directory,
    gateway: { table: gatewayTable, rows: gw.rows, firstId: gw.first?.id, lastId: gw.last?.id, groups: gw.groups },
  };
}
