// Which key may sign for an address, as of the height a row was anchored (SPEC §5.1): "a signature by
// an online key revoked at height H is accepted only for rows anchored before H". The auditor binds
// a KeyResolver (signatureChain.ts) to each batch's anchoring height through `resolverAt`.
//
// Sources: a key directory file (below) now; the identity module's online-key history once it lands
// (it will implement KeyHistory over proven queries). Off-chain: the state machine never imports this.
import { readFile } from 'node:fs/promises';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { fromHex, toHex } from '../../lib/hex.js';
import { CURVE_NAMES, assertPublicKey, keyTypeFromName, parseAddress, type KeyType } from '../../crypto/keys.js';
import type { KeyResolver, ResolvedKey } from './signatureChain.js';
import { writeFileAtomic } from './receiptDir.js';

export interface KeyHistoryEntry extends ResolvedKey {
  /** The key is revoked as of this height: it counts only for rows anchored at a lower height. */
  revokedAt?: number;
}

export interface KeyHistory {
  /** Every key the address has had, current first or in any order. */
  keysOf(address: Uint8Array): readonly KeyHistoryEntry[];
}

/** Why a key lookup failed, for reports. */
export type KeyVerdict = { key: ResolvedKey } | { revokedAt: number } | undefined;

/**
 * The key that counts for `address` for a row anchored at `anchoredAt` (undefined: not anchored,
 * so only a key never revoked counts). The first entry not revoked by then wins.
 */
export function keyAt(history: KeyHistory, address: Uint8Array, anchoredAt: number | undefined): KeyVerdict {
  let revokedAt: number | undefined;
  for (const e of history.keysOf(address)) {
    if (e.revokedAt === undefined || (anchoredAt !== undefined && anchoredAt < e.revokedAt)) return { key: { type: e.type, publicKey: e.publicKey } };
    revokedAt = revokedAt === undefined ? e.revokedAt : Math.min(revokedAt, e.revokedAt);
  }
  return revokedAt === undefined ? undefined : { revokedAt };
}

/** A KeyResolver for rows anchored at `anchoredAt`; `onRevoked` learns which lookups failed for revocation. */
export function resolverAt(history: KeyHistory, anchoredAt: number | undefined, onRevoked?: (address: Uint8Array, revokedAt: number) => void): KeyResolver {
  return (address) => {
    const v = keyAt(history, address, anchoredAt);
    if (v && 'key' in v) return v.key;
    if (v) onRevoked?.(address, v.revokedAt);
    return undefined;
  };
}

/** An in-memory history (tests, and the key directory file below). */
export class MapKeyHistory implements KeyHistory {
  private readonly map = new Map<string, KeyHistoryEntry[]>();
  add(address: Uint8Array, entry: KeyHistoryEntry): this {
    const k = toHex(address);
    this.map.set(k, [...(this.map.get(k) ?? []), entry]);
    return this;
  }
  keysOf(address: Uint8Array): readonly KeyHistoryEntry[] {
    return this.map.get(toHex(address)) ?? [];
  }
}

// ---------------------------------------------------------------------------------------------
// Key directory file: {"format": "iotchain-key-directory/v1", "keys": [{address, curve, publicKey,
// role, revokedAt}]}. `role` is a label for people; `revokedAt` is a height or null.

export const KEY_DIRECTORY_FORMAT = 'iotchain-key-directory/v1';

export interface DirectoryEntry {
  address: Uint8Array;
  type: KeyType;
  publicKey: Uint8Array;
  role: string;
  revokedAt?: number;
}

function bad(path: string, what: string): never {
  throw new InvalidMessageError(ERR.ENCODING, `${path}: ${what}`);
}

export function directoryToJson(entries: readonly DirectoryEntry[]): unknown {
  return {
    format: KEY_DIRECTORY_FORMAT,
    keys: entries.map((e) => ({ address: toHex(e.address), curve: CURVE_NAMES[e.type], publicKey: toHex(e.publicKey), role: e.role, revokedAt: e.revokedAt ?? null })),
  };
}

export function directoryFromJson(json: unknown, path = 'key directory'): DirectoryEntry[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad(path, 'expected a JSON object');
  const o = json as Record<string, unknown>;
  if (o.format !== KEY_DIRECTORY_FORMAT) bad(`${path}.format`, `expected ${JSON.stringify(KEY_DIRECTORY_FORMAT)}`);
  if (!Array.isArray(o.keys)) bad(`${path}.keys`, 'expected an array');
  return o.keys.map((k: unknown, i: number): DirectoryEntry => {
    const p = `${path}.keys[${i}]`;
    if (typeof k !== 'object' || k === null || Array.isArray(k)) bad(p, 'expected an object');
    const e = k as Record<string, unknown>;
    if (typeof e.address !== 'string') bad(`${p}.address`, 'expected a 0x address');
    const address = parseAddress(e.address, `${p}.address`);
    let type: KeyType;
    try {
      type = keyTypeFromName(String(e.curve));
    } catch {
      return bad(`${p}.curve`, 'expected secp256k1 or p256');
    }
    if (typeof e.publicKey !== 'string') bad(`${p}.publicKey`, 'expected 0x-hex');
    const publicKey = fromHex(e.publicKey, `${p}.publicKey`, 33);
    try {
      assertPublicKey(type, publicKey);
    } catch (err) {
      bad(`${p}.publicKey`, (err as Error).message);
    }
    const role = typeof e.role === 'string' ? e.role : '';
    const r = e.revokedAt;
    if (r !== null && r !== undefined && (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0)) bad(`${p}.revokedAt`, 'expected a height or null');
    return { address, type, publicKey, role, ...(typeof r === 'number' ? { revokedAt: r } : {}) };
  });
}

export function historyOf(entries: readonly DirectoryEntry[]): MapKeyHistory {
  const h = new MapKeyHistory();
  for (const e of entries) h.add(e.address, { type: e.type, publicKey: e.publicKey, ...(e.revokedAt !== undefined ? { revokedAt: e.revokedAt } : {}) });
  return h;
}

export async function loadKeyDirectory(file: string): Promise<DirectoryEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InvalidMessageError(ERR.CONFIG, `cannot read key directory ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    bad(file, 'not valid JSON');
  }
  return directoryFromJson(json, file);
}

/** Adds entries to a directory file (creating it); an (address, public key) already listed is kept as is. */
export async function mergeKeyDirectory(file: string, entries: readonly DirectoryEntry[]): Promise<DirectoryEntry[]> {
  let existing: DirectoryEntry[] = [];
  try {
    existing = await loadKeyDirectory(file);
  } catch (e) {
    if (!(e instanceof InvalidMessageError && e.code === ERR.CONFIG)) throw e; // unreadable (absent): start a new one
  }
  const seen = new Set(existing.map((e) => toHex(e.address) + toHex(e.publicKey)));
  const merged = [...existing, ...entries.filter((e) => !seen.has(toHex(e.address) + toHex(e.publicKey)))];
  await writeFileAtomic(file, JSON.stringify(directoryToJson(merged), null, 2) + '\n');
  return merged;
}
