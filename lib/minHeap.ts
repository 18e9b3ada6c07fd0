// A binary min-heap ordered by a `less` function (O(log n) push and pop, O(1) peek). Used by the
// mempool's eviction order and the simulated network's event queue; callers break ties in `less`
// so that the order is deterministic.

export class MinHeap<T> {
  private items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const h = this.items;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const x = h[i]!;
      const y = h[p]!;
      if (!this.less(x, y)) break;
      h[i] = y; // a temporary, not a destructuring swap: that one allocated an array per step
      h[p] = x;
      i = p;
    }
  }

  pop(): T | undefined {
    const h = this.items;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Replaces the contents with `xs` (heapified in O(n)). */
  reset(xs: Iterable<T>): void {
    this.items = [...xs];
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private down(i: number): void {
    const h = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      const x = h[i]!;
      h[i] = h[m]!;
      h[m] = x;
      i = m;
    }
  }
}
