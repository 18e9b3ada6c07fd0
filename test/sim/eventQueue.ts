// A virtual clock and a priority queue of events ordered by (time, insertion order): ties are
// broken deterministically, so a simulation depends only on its seed.

interface Entry<E> {
  time: number;
  seq: number;
  event: E;
}

export class EventQueue<E> {
  private heap: Entry<E>[] = [];
  private seq = 0;
  /** Virtual time of the event being handled, in ms. */
  now = 0;

  get size(): number {
    return this.heap.length;
  }

  at(time: number, event: E): void {
    this.push({ time: Math.max(time, this.now), seq: this.seq++, event });
  }

  after(delayMs: number, event: E): void {
    this.at(this.now + delayMs, event);
  }

  /** Removes the next event and advances the clock to it. */
  pop(): E | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    const last = this.heap.pop() as Entry<E>;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    this.now = top.time;
    return top.event;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  private less(a: Entry<E>, b: Entry<E>): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(e: Entry<E>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as Entry<E>, h[p] as Entry<E>)) break;
      [h[i], h[p]] = [h[p] as Entry<E>, h[i] as Entry<E>];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l] as Entry<E>, h[m] as Entry<E>)) m = l;
      if (r < h.length && this.less(h[r] as Entry<E>, h[m] as Entry<E>)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as Entry<E>, h[i] as Entry<E>];
      i = m;
    }
  }
}
