// A bounded cache of two generations of Maps, for caches on the per-transaction path (decoded txs,
// public-key objects). `get` looks in the young generation, then the old one (moving a hit to the
// young one); `set` writes to the young one; when the young generation reaches half the bounds the
// old one is dropped whole and the young one takes its place. Every operation is O(1) with no
// per-get bookkeeping: an LRU (lru-cache) moves every hit in its list, which cost ~2 % of a loaded
// validator's CPU here; a Map evicted from its front scans its deleted entries. An entry used within
// the last half-bound of insertions always survives, so for these caches it behaves like an LRU.
export class TwoGenerationCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private youngSize = 0;
  private oldSize = 0;
  private readonly genMax: number;
  private readonly genMaxSize: number;

  /**
   * `max` entries and `maxSize` (by `sizeOf`) at most in all; an entry larger than half of maxSize
   * is not kept.
   */
  constructor(
    max: number,
    private readonly opts: { maxSize?: number; sizeOf?: (v: V) => number } = {},
  ) {
    if (!Number.isInteger(max) || max < 2) throw new RangeError('max must be an integer ≥ 2');
    this.genMax = Math.floor(max / 2);
    this.genMaxSize = (opts.maxSize ?? Infinity) / 2;
  }

  get(k: K): V | undefined {
    const v = this.young.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) {
      const s = this.sizeOf(o);
      this.old.delete(k);
      this.oldSize -= s;
      this.insert(k, o, s);
    }
    return o;
  }

  set(k: K, v: V): void {
    if (this.young.has(k) || this.old.has(k)) return; // values for a key never change in these caches
    this.insert(k, v, this.sizeOf(v));
  }

  /**
   * Sets `k` to `v` whether or not it is held (for caches whose values change, such as a read cache
   * that a write updates). An oversize `v` is not kept, and neither is the earlier value.
   */
  put(k: K, v: V): void {
    this.delete(k);
    this.insert(k, v, this.sizeOf(v));
  }

  /** Removes `k`; true if it was held. */
  delete(k: K): boolean {
    const y = this.young.get(k);
    if (y !== undefined || this.young.has(k)) {
      this.youngSize -= this.sizeOf(y as V);
      return this.young.delete(k);
    }
    const o = this.old.get(k);
    if (o !== undefined || this.old.has(k)) {
      this.oldSize -= this.sizeOf(o as V);
      return this.old.delete(k);
    }
    return false;
  }

  /** Drops every entry. */
  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngSize = 0;
    this.oldSize = 0;
  }

  /** Entries held. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Sum of sizeOf over the entries held. */
  get calculatedSize(): number {
    return this.youngSize + this.oldSize;
  }

  private sizeOf(v: V): number {
    return this.opts.sizeOf ? this.opts.sizeOf(v) : 0;
  }

  private insert(k: K, v: V, s: number): void {
    if (s > this.genMaxSize) return;
    if (this.young.size >= this.genMax || this.youngSize + s > this.genMaxSize) {
      this.old = this.young;
      this.oldSize = this.youngSize;
      this.young = new Map();
      this.youngSize = 0;
    }
    this.young.set(k, v);
    this.youngSize += s;
  }
}
