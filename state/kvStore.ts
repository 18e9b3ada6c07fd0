// KvStore: the byte-keyed store under everything (STYLE.md state/). Reads are synchronous (level's
// getSync is ~7× faster than awaiting get, and synchronous reads keep handlers simple); writes go in
// atomic batches; range reads are async iterators in key order.
import { Level } from 'level';
import { compareBytes, bytesKey } from '../lib/hex.js';
import { InternalError, ERR } from '../lib/errors.js';

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

export interface RangeOptions {
  gte?: Uint8Array;
  lt?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

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

function view(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export class LevelKvStore implements KvStore {
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
    const v = this.db.getSync(key);
    return v === undefined ? undefined : view(v);
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
    await (this.db as unknown as { _batch(ops: BatchOp[], opts: { sync: boolean }): Promise<void> })._batch(ops, { sync: true });
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
      .map((k) => new Uint8Array(Buffer.from(k, 'binary')))
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
