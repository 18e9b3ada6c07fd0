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

t.test('put replaces a held value (young or old) and keeps the size count; delete removes from either generation', async (t) => {
  const c = new TwoGenerationCache<string, Uint8Array>(4, { maxSize: 100, sizeOf: (v) => v.length });
  c.set('a', new Uint8Array(10));
  c.set('b', new Uint8Array(10));
  c.set('c', new Uint8Array(10)); // a, b are old now
  c.set('a', new Uint8Array(30));
  t.equal(c.calculatedSize, 30, 'set keeps a held value (its values never change)…');
  c.put('a', new Uint8Array(30)); // from the old generation
  t.equal(c.calculatedSize, 50, '…put replaces it, and the size follows');
  c.put('c', new Uint8Array(1)); // in the young generation
  t.equal(c.get('c')?.length, 1);
  t.equal(c.calculatedSize, 41);
  t.equal(c.delete('b'), true, 'delete from the old generation');
  t.equal(c.delete('a'), true, 'delete from the young generation');
  t.equal(c.delete('zz'), false);
  t.equal(c.get('a'), undefined);
  t.equal(c.size, 1);
  t.equal(c.calculatedSize, 1);
  c.put('big', new Uint8Array(60));
  t.equal(c.get('big'), undefined, 'an oversize put is not kept');
  c.put('c', new Uint8Array(60));
  t.equal(c.get('c'), undefined, 'nor is the value it replaced');
  t.equal(c.calculatedSize, 0);
});

t.test('bounds and sizes stay exact under a seeded mix of set, put, delete and get', async (t) => {
  const c = new TwoGenerationCache<number, Uint8Array>(50, { maxSize: 600, sizeOf: (v) => v.length });
  const gens = c as unknown as { young: Map<number, Uint8Array>; old: Map<number, Uint8Array> };
  const held = () => [...gens.young.values(), ...gens.old.values()].reduce((a, v) => a + v.length, 0);
  const rand = prng(0x51ce);
  let wrong = 0;
  for (let i = 0; i < 20_000; i++) {
    const k = randInt(rand, 120);
    const op = randInt(rand, 4);
    const v = new Uint8Array(randInt(rand, 40));
    if (op === 0) {
      c.put(k, v);
      if (c.get(k) !== v) wrong++; // the latest put is what a read returns
    } else if (op === 1) {
      c.delete(k);
      if (c.get(k) !== undefined) wrong++;
    } else if (op === 2) c.set(k, v);
    else c.get(k);
    if (c.size > 50 || c.calculatedSize > 600 || c.calculatedSize !== held()) wrong++;
  }
  t.equal(wrong, 0, 'never over a bound, the size count exact, a put read back, a deleted key gone');
});

t.test('clear drops every entry and its sizes', async (t) => {
  const c = new TwoGenerationCache<string, string>(4, { maxSize: 100, sizeOf: (v) => v.length });
  for (const k of ['a', 'b', 'c']) c.set(k, k.repeat(3));
  c.clear();
  t.equal(c.size, 0);
  t.equal(c.calculatedSize, 0);
  t.equal(c.get('a'), undefined);
  c.set('d', 'dd');
  t.equal(c.get('d'), 'dd', 'usable afterwards');
});
