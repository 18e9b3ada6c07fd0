// Which key may sign for an address, as of the height a row was anchored (SPEC §5.1): "a signature by
// an online key revoked at height H is accepted only for rows anchored before H". The auditor binds
// a KeyResolver (signatureChain.ts) to each batch's anchoring height through `resolverAt`.
//
// Sources: a key directory file (below; plain keys of devices and gateways, written by `data ingest`),
// and the identity module's online-key history read through proven `identity/keyHistory` queries
// (`ChainKeyHistory`): for an address the chain knows as an identity (or as one of its online keys)
// only the chain's history counts, with each key valid for rows anchored at heights from ≤ h < to
// (the identity module's `keyValidAt`). Off-chain: the state machine never imports this.
import { readFile } from 'node:fs/promises';
import { ERR, InternalError, InvalidMessageError } from '../../lib/errors.js';
import { fromHex, toHex } from '../../lib/hex.js';
import { CURVE_NAMES, addressOf, assertPublicKey, keyTypeFromName, parseAddress, type KeyType } from '../../crypto/keys.js';
import { keyValidAt, type KeyPeriod } from '../identity/index.js';
import type { KeyResolver, ResolvedKey } from './signatureChain.js';
import type { ProofSource } from './auditView.js';
import { writeFileAtomic } from './receiptDir.js';

export interface KeyHistoryEntry extends ResolvedKey {
  /** The key is revoked as of this height: it counts only for rows anchored at a lower height. */
  revokedAt?: number;
  /** The key counts only for rows anchored at this height or later (default: from the start). */
  from?: number;
}

export interface KeyHistory {
  /** Every key the address has had, current first or in any order. */
  keysOf(address: Uint8Array): readonly KeyHistoryEntry[];
  /**
   * Fetches what `keysOf` will need for these addresses (histories read from the chain); the
   * auditor calls it with every signer of the rows before verifying them.
   */
  prepare?(addresses: Iterable<Uint8Array>): Promise<void>;
  /** Where the history comes from, for reports. */
  readonly source?: string;
}

/** Why a key lookup failed, for reports. */
export type KeyVerdict = { key: ResolvedKey } | { revokedAt: number } | undefined;

/** keyValidAt looks the key up by its online address; here the entry is already the key's, so a fixed label stands for it (no hex per lookup). */
const THIS_KEY = 'this-key';

/**
 * Whether `e` counts for a row anchored at `anchoredAt`: from ≤ anchoredAt < revokedAt (keyValidAt,
 * the identity module's rule, on this one entry); a row not anchored yet (undefined) needs a key
 * never revoked.
 */
export function entryValidAt(e: KeyHistoryEntry, anchoredAt: number | undefined): boolean {
  if (anchoredAt === undefined) return e.revokedAt === undefined;
  const period: KeyPeriod = { online: THIS_KEY, from: e.from ?? 0, to: e.revokedAt };
  return keyValidAt([period], THIS_KEY, anchoredAt);
}

/**
 * The key that counts for `address` for a row anchored at `anchoredAt` (undefined: not anchored,
 * so only a key never revoked counts). The first entry valid then wins.
 */
export function keyAt(history: KeyHistory, address: Uint8Array, anchoredAt: number | undefined): KeyVerdict {
  let revokedAt: number | undefined;
  for (const e of history.keysOf(address)) {
    if (entryValidAt(e, anchoredAt)) return { key: { type: e.type, publicKey: e.publicKey } };
    if (e.revokedAt !== undefined) revokedAt = revokedAt === undefined ? e.revokedAt : Math.min(revokedAt, e.revokedAt);
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

// ---------------------------------------------------------------------------------------------
// The identity module's key history, read through proven queries.

/** `identity/keyHistory {addr}` as the query answers it. */
export interface KeyHistoryJson {
  offline: string;
  entries: { online: string; keyType: string; pub: string; from: number; to: number | null }[];
}

function parseHistory(v: unknown, addr: string): KeyHistoryJson {
  const where = `identity/keyHistory ${addr}`;
  if (typeof v !== 'object' || v === null) bad(where, 'expected {offline, entries}');
  const o = v as Partial<KeyHistoryJson>;
  if (typeof o.offline !== 'string' || !Array.isArray(o.entries)) bad(where, 'expected {offline, entries}');
  for (const e of o.entries) {
    if (typeof e?.online !== 'string' || typeof e.keyType !== 'string' || typeof e.pub !== 'string' || typeof e.from !== 'number' || (e.to !== null && typeof e.to !== 'number')) {
      bad(where, 'bad history entry');
    }
  }
  return o as KeyHistoryJson;
}

/** One online key of an identity, as the chain records it. */
export interface ChainKeyEntry extends KeyHistoryEntry {
  /** The online key's address. */
  online: Uint8Array;
  /** The identity (offline address) it signs for. */
  offline: Uint8Array;
}

/**
 * Key histories from the chain: `identity/keyHistory` for every address, each answer a proven query
 * (the ProofSource verifies it with protocols/verify.ts against a certified header and the trusted
 * validator set). An address the chain knows — an identity, or one of its online keys — gets the
 * chain's history only (a key directory's entry for it is ignored: it cannot know of revocations);
 * any other address (plain device and gateway keys) falls back to `fallback`. `keysOf` refuses an
 * address that was not `prepare`d, so that no signer silently escapes the chain's history.
 */
export class ChainKeyHistory implements KeyHistory {
  readonly source = 'chain';
  private readonly chain = new Map<string, ChainKeyEntry[] | null>();
  /** The height of the proven answer each history was read at. */
  private readonly heights = new Map<string, number>();

  constructor(
    private readonly proofs: ProofSource,
    private readonly fallback?: KeyHistory,
  ) {}

  async prepare(addresses: Iterable<Uint8Array>): Promise<void> {
    for (const a of addresses) {
      const k = toHex(a);
      if (this.chain.has(k)) continue;
      const { value, height } = await this.proofs.query('identity/keyHistory', { addr: k });
      const h = parseHistory(value, k);
      const offline = fromHex(h.offline, 'offline', 20);
      // Asked for an online key: only that key counts for it (it signs for its identity's address otherwise).
      const entries = h.entries
        .filter((e) => h.offline.toLowerCase() === k || e.online.toLowerCase() === k)
        .map((e, i): ChainKeyEntry => ({
          online: fromHex(e.online, `entries[${i}].online`, 20),
          offline,
          type: keyTypeFromName(e.keyType),
          publicKey: fromHex(e.pub, `entries[${i}].pub`, 33),
          from: e.from,
          ...(e.to !== null ? { revokedAt: e.to } : {}),
        }));
      this.chain.set(k, entries.length > 0 ? entries : null);
      this.heights.set(k, height);
      if (this.fallback?.prepare) await this.fallback.prepare([a]);
    }
  }

  /** Whether the chain has a key history for this address (after prepare). */
  onChain(address: Uint8Array): boolean {
    return Boolean(this.chain.get(toHex(address)));
  }

  /** The chain height the address's history was proven at. */
  provenAt(address: Uint8Array): number | undefined {
    return this.heights.get(toHex(address));
  }

  keysOf(address: Uint8Array): readonly KeyHistoryEntry[] {
    const k = toHex(address);
    const c = this.chain.get(k);
    if (c === undefined) throw new InternalError(ERR.NOT_FOUND, `ChainKeyHistory: ${k} was not prepared (call prepare with every signer first)`);
    return c ?? this.fallback?.keysOf(address) ?? [];
  }
}

/** The online key's address of a history entry (for reports). */
export function entryAddress(e: KeyHistoryEntry): Uint8Array {
  return 'online' in e && e.online instanceof Uint8Array ? e.online : addressOf(e.type, e.publicKey);
}
