// The native-module framework (STYLE.md "One native module"; SPEC §1 "Native modules").
// A module is deterministic code: transaction handlers, read-only queries, genesis, an end-of-block
// hook and invariants. Handlers see a context with no clock, randomness, logger or network: time is
// the block time agreed by consensus.
import { truncateUtf8, type Codec } from '../lib/encoding.js';
import type { RangeOptions } from '../state/kvStore.js';
import type { StateReader, StateWriter } from '../state/overlay.js';
import { PREFIX, prefixed } from '../state/prefixes.js';
import { uintBE, toHex } from '../lib/hex.js';
import { prefixEnd } from '../state/kvStore.js';
import type { TxEvent, Validator } from '../state/block.js';

/** Which key must sign a method (SPEC §1 "Who is who"). */
export type SignerRole = 'offline' | 'online' | 'any';

export interface Method<A> {
  /** Permanent numeric id inside the module. */
  id: number;
  args: Codec<A>;
  signer: SignerRole;
  /**
   * `false` when the handler never reads `ctx.identity` (nor passes ctx on to code that does): for
   * signer 'any', which accepts every sender, resolving the identity is then only a wasted state read
   * per tx, so the app skips it and reading `ctx.identity` throws. Other roles always resolve,
   * because resolving is what rejects a wrong signer.
   */
  readsIdentity?: false;
  /** A faster `decode(args, bytes, what)` with exactly its results and errors (hot methods only). */
  decodeArgs?(bytes: Uint8Array, what: string): A;
  /** Stateless checks beyond the codec; throws InvalidMessageError. */
  validateBasic?(args: A): void;
}

export interface BlockInfo {
  height: number;
  /** Block time in ms (agreed by consensus). */
  time: number;
  proposer: Uint8Array;
}

/** Read-only view of one module's key space (keys are relative to the module's prefix). */
export interface ModuleReader {
  get(key: Uint8Array): Uint8Array | undefined;
  /** The decoded value a `setValue` wrote in this block (state/overlay.ts getValue), else undefined: then decode `get`. */
  getValue(key: Uint8Array): unknown;
  has(key: Uint8Array): boolean;
  /** Entries whose key starts with `prefix`, relative keys, in key order. */
  entries(prefix: Uint8Array, opts?: Omit<RangeOptions, 'gte' | 'lt'>): AsyncIterable<[Uint8Array, Uint8Array]>;
}

export interface ModuleStore extends ModuleReader {
  /** Stores a copy of `value`. */
  set(key: Uint8Array, value: Uint8Array): void;
  /** Stores `value` itself: the caller hands it over and never mutates it (state/overlay.ts setOwned). */
  setOwned(key: Uint8Array, value: Uint8Array): void;
  /** Stores a frozen decoded value whose canonical bytes are `encode(value)`, made when needed (state/overlay.ts setValue). */
  setValue<T>(key: Uint8Array, value: T, encode: (v: T) => Uint8Array): void;
  delete(key: Uint8Array): void;
}

export type EventValue = string | number | bigint | boolean | Uint8Array;

/** Access to other modules' stores for keepers (deps.ts implementations); handlers use `state`. */
export interface StoreAccess {
  storeOf(moduleId: number): ModuleStore;
}
export interface ReaderAccess {
  readerOf(moduleId: number): ModuleReader;
}
/** The read-only side of a StoreAccess, for keepers that take a ReaderAccess. */
export function readerAccess(access: StoreAccess): ReaderAccess {
  return { readerOf: (id) => access.storeOf(id) };
}

export interface TxContext {
  state: ModuleStore;
  block: BlockInfo;
  chainId: string;
  /** Address whose key signed the transaction. */
  sender: Uint8Array;
  /** The sender's stable identity: its offline address (equal to `sender` when it signs as offline/any). */
  identity: Uint8Array;
  txId: Uint8Array;
  emit(type: string, attributes: Record<string, EventValue>): void;
  /** For keepers only (deps implementations): the same block overlay, scoped to another module. */
  access: StoreAccess;
}

export type Handler<A> = (ctx: TxContext, args: A) => void | Promise<void>;

export interface BlockContext {
  state: ModuleStore;
  block: BlockInfo;
  chainId: string;
  emit(type: string, attributes: Record<string, EventValue>): void;
  access: StoreAccess;
}

export interface QueryContext {
  state: ModuleReader;
  chainId: string;
  /** Committed height the query reads. */
  height: number;
  /** Committed block time. */
  time: number;
  access: ReaderAccess;
}

export interface QueryDef<A> {
  args: Codec<A>;
  /** A provable query reads only point keys (no ranges), so every read can carry a state proof. */
  provable: boolean;
  run(ctx: QueryContext, args: A): unknown | Promise<unknown>;
}

/** A query with its argument type erased, as stored in a module's query table. */
export type AnyQuery = QueryDef<unknown>;

/** Declares a query with typed args and erases the type for the module's table. */
export function defineQuery<A>(def: QueryDef<A>): AnyQuery {
  return def as unknown as AnyQuery;
}

export interface GenesisContext {
  state: ModuleStore;
  chainId: string;
  time: number;
  access: StoreAccess;
  /** The chain's genesis validator set. */
  validators: Validator[];
}

/**
 * A native module. `M` maps method names to their argument types, so the compiler demands a method
 * definition and a handler for every message.
 */
export interface NativeModule<M extends object = Record<string, unknown>> {
  /** Permanent numeric id (see protocols/registry.ts). */
  id: number;
  name: string;
  methods: { [K in keyof M]: Method<M[K]> };
  handlers: { [K in keyof M]: Handler<M[K]> };
  queries: Record<string, AnyQuery>;
  /** Validates the module's genesis section and writes initial state; throws InvalidMessageError. */
  genesis?(ctx: GenesisContext, config: unknown): void;
  /** Runs after the block's transactions (deadlines: walk an index in state, with a cap). */
  endBlock?(ctx: BlockContext): void | Promise<void>;
  /** Checked after every block in tests: returns a list of violations (empty = fine). */
  invariants?(reader: ModuleReader, access: ReaderAccess): Promise<string[]>;
  /** Only the validators module: the validator set in force for the next block, from committed state. */
  validatorSet?(reader: ModuleReader): Validator[] | undefined;
}

// ---------------------------------------------------------------------------------------------
// Module key spaces over a flat store.

const prefixes = new Map<number, Uint8Array>();
function prefixOf(moduleId: number): Uint8Array {
  let p = prefixes.get(moduleId);
  if (p === undefined) prefixes.set(moduleId, (p = prefixed(PREFIX.STATE, uintBE(moduleId, 2))));
  return p;
}

function withPrefix(pre: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(pre.length + key.length);
  out.set(pre, 0);
  out.set(key, pre.length);
  return out;
}

export function moduleKeyPrefix(moduleId: number): Uint8Array {
  return prefixOf(moduleId).slice();
}

export function moduleKey(moduleId: number, key: Uint8Array): Uint8Array {
  return withPrefix(prefixOf(moduleId), key);
}

// Scoped views are stateless wrappers; one per (base, module) is built and reused (one per tx was
// measurable in bench/pbft.ts profiles).
const readers = new WeakMap<StateReader, Map<number, ModuleReader>>();
const stores = new WeakMap<StateWriter, Map<number, ModuleStore>>();

function memo<B extends object, V>(cache: WeakMap<B, Map<number, V>>, base: B, moduleId: number, make: () => V): V {
  let m = cache.get(base);
  if (m === undefined) cache.set(base, (m = new Map()));
  let v = m.get(moduleId);
  if (v === undefined) m.set(moduleId, (v = make()));
  return v;
}

function makeReader(base: StateReader, moduleId: number): ModuleReader {
  const pre = prefixOf(moduleId);
  const getValue = base.getValue;
  return {
    get: (k) => base.get(withPrefix(pre, k)),
    getValue: getValue === undefined ? () => undefined : (k) => getValue.call(base, withPrefix(pre, k)),
    has: (k) => base.get(withPrefix(pre, k)) !== undefined,
    async *entries(prefix, opts = {}) {
      const gte = withPrefix(pre, prefix);
      for await (const [k, v] of base.range({ ...opts, gte, lt: prefixEnd(gte) })) yield [k.subarray(pre.length), v];
    },
  };
}

export function scopedReader(base: StateReader, moduleId: number): ModuleReader {
  return memo(readers, base, moduleId, () => makeReader(base, moduleId));
}

export function scopedStore(base: StateWriter, moduleId: number): ModuleStore {
  return memo(stores, base, moduleId, () => {
    const pre = prefixOf(moduleId);
    return {
      ...makeReader(base, moduleId),
      set: (k, v) => base.set(withPrefix(pre, k), v),
      setOwned: (k, v) => base.setOwned(withPrefix(pre, k), v),
      setValue: (k, v, encode) => base.setValue(withPrefix(pre, k), v, encode),
      delete: (k) => base.delete(withPrefix(pre, k)),
    };
  });
}

/** Builds an event, cutting every field to its encoded size limit (an oversized event must never fail a block). */
export function eventOf(module: string, type: string, attributes: Record<string, EventValue>): TxEvent {
  const keys = Object.keys(attributes); // the order of Object.entries
  const out: [string, string][] = [];
  for (let i = 0; i < keys.length && i < 32; i++) {
    const k = keys[i]!;
    const v = attributes[k]!;
    out.push([cut(k, 64), cut(v instanceof Uint8Array ? toHex(v) : typeof v === 'bigint' ? v.toString(10) : String(v), 1024)]);
  }
  return { module: cut(module, 32), type: cut(type, 64), attributes: out };
}

/** truncateUtf8, skipping the byte count when the string cannot be too long (UTF-8 takes at most 3 bytes per UTF-16 unit). */
const cut = (s: string, maxBytes: number): string => (s.length * 3 <= maxBytes ? s : truncateUtf8(s, maxBytes));

// ---------------------------------------------------------------------------------------------
// Deadline index (SPEC §1: an end-of-block hook walks a deadline index kept in state, with a cap
// per block, never an in-memory map). Shared by the modules that have deadlines.

export interface DeadlineJob {
  /** Block time (ms) at or after which the job is due. */
  due: number;
  /** Module-defined job kind (one byte). */
  kind: number;
  /** Module-defined job id (the rest of the key). */
  id: Uint8Array;
}

/** Key of a deadline job: prefix ‖ due (u64 BE) ‖ kind (1 byte) ‖ id. Keys sort by due time. */
export function deadlineKey(prefix: Uint8Array, due: number, kind: number, id: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + 9 + id.length);
  out.set(prefix, 0);
  out.set(uintBE(due, 8), prefix.length);
  out[prefix.length + 8] = kind;
  out.set(id, prefix.length + 9);
  return out;
}

export function parseDeadlineKey(prefix: Uint8Array, key: Uint8Array): DeadlineJob {
  const o = prefix.length;
  let due = 0;
  for (let i = o; i < o + 8; i++) due = due * 256 + key[i]!;
  return { due, kind: key[o + 8]!, id: key.slice(o + 9) };
}

/**
 * The jobs due at `now` or earlier, oldest first, at most `cap`. They are read before any is
 * handled, so a handler may delete or add jobs freely.
 */
export async function dueJobs(state: ModuleReader, prefix: Uint8Array, now: number, cap: number): Promise<DeadlineJob[]> {
  const jobs: DeadlineJob[] = [];
  for await (const [k] of state.entries(prefix, { limit: cap })) {
    const job = parseDeadlineKey(prefix, k);
    if (job.due > now) break;
    jobs.push(job);
  }
  return jobs;
}
