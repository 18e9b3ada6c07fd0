// Per-block write overlay over the committed store (STYLE.md state/): reads fall through to the
// base; writes stay in memory; checkpoint/commit/revert nest, so one transaction's writes can be
// undone without touching the others'. At the end of a block, `changes()` lists every changed key once.
import type { KvStore, RangeOptions } from './kvStore.js';
import { compareBytes, bytesKey, keyBytes } from '../lib/hex.js';

// Keys are held as bytesKey strings (one char per byte), which compare as their bytes do (code
// units 0–255, a prefix first), so ranges and sorting work on the strings themselves.
const key = bytesKey;
const unkey = keyBytes;
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A value written decoded (`setValue`): its bytes are made when someone asks for them (`get`,
 * `changes`, `range`), once. A bank account is written two or three times per transfer, and its
 * encoding (and the decode cache entry that went with it) cost more than the transfer's logic; now a
 * block encodes each changed account once, at its end.
 */
class Lazy {
  bytes: Uint8Array | undefined = undefined;
  constructor(
    readonly value: unknown,
    readonly encode: (v: never) => Uint8Array,
  ) {}
  get encoded(): Uint8Array {
    return (this.bytes ??= this.encode(this.value as never));
  }
}

/** `null` marks a deletion in the overlay. */
type Slot = Uint8Array | Lazy | null;

const bytesOf = (s: Uint8Array | Lazy): Uint8Array => (s instanceof Lazy ? s.encoded : s);

export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
  /**
   * The value a `setValue` wrote under `key` (the very object), or undefined when the key holds
   * bytes, nothing, or this reader keeps no decoded values (then decode `get`'s bytes). Optional:
   * readers that must see every read as bytes (proof recording) leave it out.
   */
  getValue?(key: Uint8Array): unknown;
  /** Entries in [gte, lt) in key order, overlay merged over base. */
  range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
}

export interface StateWriter extends StateReader {
  /** Stores a copy of `value` (the caller may reuse its buffer). */
  set(key: Uint8Array, value: Uint8Array): void;
  /**
   * Stores `value` itself, without a copy: the caller hands it over and nobody mutates it afterwards
   * (e.g. fresh `encode` output). Later `get`s return this very object, which lets a module cache
   * what it decoded from it by identity (see protocols/bank/store.ts).
   */
  setOwned(key: Uint8Array, value: Uint8Array): void;
  /**
   * Stores a decoded value; its bytes are `encode(value)`, computed when first needed. The value is
   * shared with later `getValue` callers and must never be mutated (freeze it); `encode` must be
   * the canonical encoding of the module's row, so that the bytes are the same as a `set` of them.
   */
  setValue<T>(key: Uint8Array, value: T, encode: (v: T) => Uint8Array): void;
  delete(key: Uint8Array): void;
}

export class Overlay implements StateWriter {
  private readonly writes = new Map<string, Slot>();
  /**
   * Undo log of the open checkpoints: (key, the slot before the write, undefined = absent) pairs,
   * flat, in write order; `marks` holds where each open checkpoint's entries start. A key written
   * twice is logged twice and undone in reverse, which ends at its first previous slot. (It was a
   * Map per checkpoint: one per transaction, for the two or three writes of a transfer.)
   */
  private readonly journal: (string | Slot | undefined)[] = [];
  private readonly marks: number[] = [];

  constructor(private readonly base: Pick<KvStore, 'get' | 'range'>) {}

  get(k: Uint8Array): Uint8Array | undefined {
    const s = this.writes.get(key(k));
    if (s === null) return undefined;
    if (s !== undefined) return bytesOf(s);
    return this.base.get(k);
  }

  getValue(k: Uint8Array): unknown {
    const s = this.writes.get(key(k));
    return s instanceof Lazy ? s.value : undefined;
  }

  set(k: Uint8Array, value: Uint8Array): void {
    this.put(key(k), Uint8Array.from(value));
  }

  setOwned(k: Uint8Array, value: Uint8Array): void {
    this.put(key(k), value);
  }

  setValue<T>(k: Uint8Array, value: T, encode: (v: T) => Uint8Array): void {
    this.put(key(k), new Lazy(value, encode as (v: never) => Uint8Array));
  }

  delete(k: Uint8Array): void {
    this.put(key(k), null);
  }

  private put(s: string, slot: Slot): void {
    this.record(s);
    this.writes.set(s, slot);
  }

  private record(s: string): void {
    if (this.marks.length > 0) this.journal.push(s, this.writes.get(s));
  }

  checkpoint(): void {
    this.marks.push(this.journal.length);
  }

  /** Keeps the writes since the last checkpoint (its log entries now belong to the enclosing one). */
  commitCheckpoint(): void {
    const m = this.marks.pop();
    if (m === undefined) throw new Error('commitCheckpoint without checkpoint');
    if (this.marks.length === 0) this.journal.length = m; // nothing left that could be reverted
  }

  /** Undoes every write since the last checkpoint. */
  revert(): void {
    const m = this.marks.pop();
    if (m === undefined) throw new Error('revert without checkpoint');
    const j = this.journal;
    for (let i = j.length - 2; i >= m; i -= 2) {
      const k = j[i] as string;
      const prev = j[i + 1] as Slot | undefined;
      if (prev === undefined) this.writes.delete(k);
      else this.writes.set(k, prev);
    }
    j.length = m;
  }

  get depth(): number {
    return this.marks.length;
  }

  /** Every key written in this overlay (value undefined = deleted), sorted by key. */
  changes(): { key: Uint8Array; value: Uint8Array | undefined }[] {
    return [...this.writes.entries()].sort((a, b) => byString(a[0], b[0])).map(([k, v]) => ({ key: unkey(k), value: v === null ? undefined : bytesOf(v) }));
  }

  /**
   * The overlay's writes in range are picked and sorted by their string keys, and only they are
   * turned back into bytes: end-of-block hooks scan small index ranges of an overlay holding every
   * write of the block, and converting every write per scan was 8 % of a 192-transfer block's
   * execution (bench/blockCost.ts under --cpu-prof).
   */
  async *range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]> {
    const lo = opts.gte === undefined ? undefined : key(opts.gte);
    const hi = opts.lt === undefined ? undefined : key(opts.lt);
    const picked: [string, Slot][] = [];
    for (const e of this.writes) if ((lo === undefined || e[0] >= lo) && (hi === undefined || e[0] < hi)) picked.push(e);
    picked.sort((a, b) => byString(a[0], b[0]) * (opts.reverse ? -1 : 1));
    const pending = picked.map(([k, v]) => [unkey(k), v === null ? null : bytesOf(v)] as const);
    let i = 0;
    let yielded = 0;
    const limit = opts.limit !== undefined && opts.limit >= 0 ? opts.limit : Infinity;
    const dir = opts.reverse ? -1 : 1;
    const { limit: _ignored, ...baseOpts } = opts;
    for await (const [bk, bv] of this.base.range(baseOpts)) {
      // emit overlay entries that sort before this base key
      while (i < pending.length && compareBytes(pending[i]![0], bk) * dir < 0) {
        const [pk, pv] = pending[i++]!;
        if (pv !== null) {
          yield [pk, pv];
          if (++yielded >= limit) return;
        }
      }
      if (i < pending.length && compareBytes(pending[i]![0], bk) === 0) {
        const [pk, pv] = pending[i++]!;
        if (pv !== null) {
          yield [pk, pv];
          if (++yielded >= limit) return;
        }
        continue;
      }
      yield [bk, bv];
      if (++yielded >= limit) return;
    }
    for (; i < pending.length; i++) {
      const [pk, pv] = pending[i]!;
      if (pv !== null) {
        yield [pk, pv];
        if (++yielded >= limit) return;
      }
    }
  }
}
