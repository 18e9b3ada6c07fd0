// A virtual clock and a priority queue of events ordered by (time, insertion order): ties are
// broken deterministically, so a simulation depends only on its seed.
import { MinHeap } from '../../lib/minHeap.js';

interface Entry<E> {
  time: number;
  seq: number;
  event: E;
}

export class EventQueue<E> {
  private readonly heap = new MinHeap<Entry<E>>((a, b) => a.time < b.time || (a.time === b.time && a.seq < b.seq));
  private seq = 0;
  /** Virtual time of the event being handled, in ms. */
  now = 0;

  get size(): number {
    return this.heap.size;
  }

  at(time: number, event: E): void {
    this.heap.push({ time: Math.max(time, this.now), seq: this.seq++, event });
  }

  after(delayMs: number, event: E): void {
    this.at(this.now + delayMs, event);
  }

  /** Removes the next event and advances the clock to it. */
  pop(): E | undefined {
    const top = this.heap.pop();
    if (!top) return undefined;
    this.now = top.time;
    return top.event;
  }

  peekTime(): number | undefined {
    return this.heap.peek()?.time;
  }
}
