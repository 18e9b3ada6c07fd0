// KvStore: the byte-keyed store under everything (STYLE.md state/). Reads are synchronous (level's
// getSync is ~7× faster than awaiting get, and synchronous reads keep handlers simple); writes go in
// atomic batches; range reads are async iterators in key order.
import { Level } from 'level';
import { compareBytes, bytesKey, keyBytes, plainView as view } from '../lib/hex.js';
import { InternalError, ERR } from '../lib/errors.js';
import { TwoGenerationCache } from '../lib/twoGenCache.js';
import { PREFIX } from './prefixes.js';

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

export interface RangeOptions {
  gte?: Uint8Array;
  lt?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

/**
 * Values are shared, never copied on the way in or out: a value returned by `get` must not be
 * mutated, nor a value handed to `batch` after the call (the overlay and the bank store already rely
 * on this within a block; LevelKvStore's row cache relies on it across blocks).
 */
export interface KvStore {
  get(key: Uint8Array): Uint8Array | undefined;
  batch(ops: BatchOp[]): Promise<void>;
  range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
  close(): Promise<void>;
}

/** All keys starting with `prefix`: [prefix, prefixEnd(prefix)). */
export function prefixRange(prefix: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: prefix, lt: prefixEnd(prefix) };
}

/** Smallest key greater than every key with this prefix. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]); // prefix of all 0xff: open end
}

/** Rows the read cache holds at most, and their bytes (keys and values; a tree bucket of a large state is a few KiB). */
export const ROW_CACHE_MAX = 100_000;
export const ROW_CACHE_MAX_BYTES = 64 * 1024 * 1024;
/** Per-entry overhead counted against ROW_CACHE_MAX_BYTES besides the key and value bytes. */
const ROW_OVERHEAD = 64;

/** Keys whose reads are cached: module state rows and state-tree buckets, read for every transaction. */
const cachedRow = (key: Uint8Array): boolean => key[0] === PREFIX.STATE || key[0] === PREFIX.TREE;

type Row = { keyBytes: number; value: Uint8Array | null };

export class LevelKvStore implements KvStore {
  /**
   * Read cache of state rows and tree buckets (absent ones too, as null), written through by `batch`
   * once LevelDB has applied it. A transfer reads the sender's committed row at admission and both
   * accounts' rows and tree buckets when its block executes, on every validator: from LevelDB each is
   * a native call and a fresh Buffer (and a fresh decode in the bank store, whose decode cache is
   * keyed by the bytes object); from here it is one Map lookup and the same object each time.
   */
  private readonly rows = new TwoGenerationCache<string, Row>(ROW_CACHE_MAX, {
    maxSize: ROW_CACHE_MAX_BYTES,
    sizeOf: (r) => r.keyBytes + (r.value?.length ?? 0) + ROW_OVERHEAD,
  });

  private constructor(private readonly db: Level<Uint8Array, Uint8Array>) {}

  static async open(path: string): Promise<LevelKvStore> {
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message ?? '';
      throw new InternalError(ERR.DB_CORRUPT, `cannot open database at ${path}: ${(e as Error).message} ${cause}`.trim());
    }
    return new LevelKvStore(db);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    if (!cachedRow(key)) return this.read(key);
    const k = bytesKey(key);
    const hit = this.rows.get(k);
    if (hit !== undefined) return hit.value ?? undefined;
    const v = this.read(key);
    this.rows.set(k, { keyBytes: key.length, value: v ?? null });
    return v;
  }

  private read(key: Uint8Array): Uint8Array | undefined {
    const v = this.db.getSync(key);
    return v === undefined ? undefined : view(v);
  }

  /** Rows in the read cache (tests). */
  get cachedRows(): number {
    return this.rows.size;
  }

  async batch(ops: BatchOp[]): Promise<void> {
    if (ops.length === 0) return;
    if (this.db.status !== 'open') throw new InternalError(ERR.DB_CORRUPT, `database is ${this.db.status}: cannot write`);
    // classic-level's own batch (`_batch`, the abstract-level implementation hook) rather than the
    // public `batch`, which clones and re-validates every op: ~4 against ~14 µs of CPU per op
    // (bench/kvBatch.ts), and a block writes a few ops per transaction. Our ops are plain
    // {type, key, value} with Uint8Array keys and values ('view' is a native format of classic-level);
    // no hooks, sublevels or write events are used. sync: a committed block must survive a power
    // loss, not only a process crash.
    try {
      await (this.db as unknown as { _batch(ops: BatchOp[], opts: { sync: boolean }): Promise<void> })._batch(ops, { sync: true });
    } catch (e) {
      // what LevelDB holds for these keys is now unknown: forget them, so reads go to LevelDB
      for (const op of ops) if (cachedRow(op.key)) this.rows.delete(bytesKey(op.key));
      throw e;
    }
    // only now: a read while the batch is in flight may still return the earlier value
    for (const op of ops) {
      if (cachedRow(op.key)) this.rows.put(bytesKey(op.key), { keyBytes: op.key.length, value: op.type === 'put' ? op.value : null });
    }
  }

  async *range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]> {
    const it = this.db.iterator({ ...opts, limit: opts.limit ?? -1 });
    try {
      for await (const [k, v] of it) yield [view(k), view(v)];
    } finally {
      await it.close();
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** In-memory store with the same semantics (tests, simulations, client-side checks). */
export class MemoryKvStore implements KvStore {
  private readonly map = new Map<string, Uint8Array>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(bytesKey(key));
  }

  async batch(ops: BatchOp[]): Promise<void> {
    for (const op of ops) {
      const k = bytesKey(op.key);
      if (op.type === 'put') this.map.set(k, Uint8Array.from(op.value));
      else this.map.delete(k);
    }
  }

  async *range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]> {
    let keys = [...this.map.keys()]
      .map(keyBytes)
      .filter((k) => (!opts.gte || compareBytes(k, opts.gte) >= 0) && (!opts.lt || compareBytes(k, opts.lt) < 0))
      .sort(compareBytes);
    if (opts.reverse) keys = keys.reverse();
    if (opts.limit !== undefined && opts.limit >= 0) keys = keys.slice(0, opts.limit);
    for (const k of keys) {
      const v = this.get(k);
      if (v) yield [k, v];
    }
  }

  async close(): Promise<void> {}

  get size(): number {
    return this.map.size;
  }
}
