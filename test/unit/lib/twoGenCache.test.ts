// The two-generation cache on the per-tx path: bounded by entries and by size at all times, keeps
// whatever was used within the last half-bound of insertions, refuses oversize entries.
import t from 'tap';
import { TwoGenerationCache } from '../../../lib/twoGenCache.js';
import { prng, randInt } from '../../utils/prng.js';

t.test('hits, misses, promotion from the old generation', async (t) => {
  const c = new TwoGenerationCache<string, number>(4);
  c.set('a', 1);
  c.set('b', 2); // young is full (2 = 4 / 2)
  c.set('c', 3); // a, b become old
  t.equal(c.get('a'), 1, 'an old entry is a hit …');
  c.set('d', 4);
  c.set('e', 5); // young (c, a) → old; b dropped
  t.equal(c.get('b'), undefined, 'an entry not used within half the bound is gone');
  t.equal(c.get('a'), 1, '… and a promoted one survived the rotation');
  t.equal(c.get('x'), undefined);
  t.ok(c.size <= 4);
});

t.test('never above its entry or size bound, on a seeded random workload; oversize entries are not kept', async (t) => {
  const c = new TwoGenerationCache<number, Uint8Array>(100, { maxSize: 1000, sizeOf: (v) => v.length });
  const rand = prng(0x2c4e);
  let over = 0;
  for (let i = 0; i < 20_000; i++) {
    const k = randInt(rand, 400);
    if (randInt(rand, 2) === 0) c.set(k, new Uint8Array(randInt(rand, 60)));
    else c.get(k);
    if (c.size > 100 || c.calculatedSize > 1000) over++;
  }
  t.equal(over, 0, 'within 100 entries and 1000 bytes after every operation');
  c.set(-1, new Uint8Array(501));
  t.equal(c.get(-1), undefined, 'an entry over half the size bound is not kept');
  t.throws(() => new TwoGenerationCache(1), RangeError);
});

t.test('an entry used within the last half-bound of insertions always survives', async (t) => {
  const c = new TwoGenerationCache<number, number>(1000);
  c.set(-1, -1);
  let lost = 0;
  for (let i = 0; i < 10_000; i++) {
    c.set(i, i);
    if (i % 400 === 0 && c.get(-1) === undefined) lost++; // used every 400 insertions (< 500)
  }
  t.equal(lost, 0);
});
