import t from 'tap';
import { MinHeap } from '../../../lib/minHeap.js';
import { prng, randInt } from '../../utils/prng.js';

t.test('pops in `less` order, ties as the comparator breaks them, across pushes, pops and resets', async (t) => {
  const rand = prng(7);
  type Item = { k: number; seq: number };
  const less = (a: Item, b: Item) => a.k < b.k || (a.k === b.k && a.seq < b.seq);
  const h = new MinHeap<Item>(less);
  let model: Item[] = [];
  let seq = 0;
  let wrong = 0;
  for (let step = 0; step < 20_000; step++) {
    const op = randInt(rand, 10);
    if (op < 6) {
      const x = { k: randInt(rand, 50), seq: seq++ };
      h.push(x);
      model.push(x);
    } else if (op < 9) {
      model.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
      if (h.peek() !== model[0]) wrong++;
      if (h.pop() !== model.shift()) wrong++;
    } else if (step % 100 === 0) {
      model = model.filter(() => rand() < 0.5);
      h.reset(model);
    }
    if (h.size !== model.length) wrong++;
  }
  t.equal(wrong, 0, 'matches a sorted list at every step');
  const empty = new MinHeap<number>((a, b) => a < b);
  t.equal(empty.pop(), undefined);
  t.equal(empty.peek(), undefined);
});
