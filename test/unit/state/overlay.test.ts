import t from 'tap';
import { Overlay } from '../../../state/overlay.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { utf8 } from '../../../lib/hex.js';
import { prng, randInt } from '../../utils/prng.js';

const k = (s: string) => utf8(s);
const str = (v: Uint8Array | undefined) => (v ? Buffer.from(v).toString() : undefined);

t.test('checkpoints nest; revert undoes only the inner writes', async (t) => {
  const base = new MemoryKvStore();
  await base.batch([{ type: 'put', key: k('a'), value: k('1') }]);
  const o = new Overlay(base);
  o.set(k('b'), k('2'));
  o.checkpoint();
  o.set(k('a'), k('x'));
  o.delete(k('b'));
  o.checkpoint();
  o.set(k('c'), k('3'));
  o.commitCheckpoint();
  t.equal(str(o.get(k('c'))), '3');
  o.revert();
  t.equal(str(o.get(k('a'))), '1', 'a restored');
  t.equal(str(o.get(k('b'))), '2', 'b restored');
  t.equal(o.get(k('c')), undefined, 'c (committed into the reverted checkpoint) undone');
  t.same(
    o.changes().map((c) => [Buffer.from(c.key).toString(), str(c.value)]),
    [['b', '2']],
  );
  t.throws(() => o.revert(), /without checkpoint/);
});

t.test('range merges overlay over base, honouring deletes, order, reverse and limit', async (t) => {
  const base = new MemoryKvStore();
  await base.batch(['a', 'c', 'e'].map((x) => ({ type: 'put' as const, key: k(x), value: k(x.toUpperCase()) })));
  const o = new Overlay(base);
  o.set(k('b'), k('B'));
  o.delete(k('c'));
  o.set(k('e'), k('E2'));
  o.set(k('z'), k('Z'));
  const all: string[] = [];
  for await (const [key, v] of o.range({ gte: k('a'), lt: k('y') })) all.push(`${Buffer.from(key)}=${Buffer.from(v)}`);
  t.same(all, ['a=A', 'b=B', 'e=E2']);
  const rev: string[] = [];
  for await (const [key] of o.range({ reverse: true, limit: 2 })) rev.push(Buffer.from(key).toString());
  t.same(rev, ['z', 'e']);
});

t.test('range over binary keys: the same entries, in the same order, as a byte-wise reference (seeded)', async (t) => {
  // keys of 0–3 bytes from a small alphabet that includes 0x00, 0x7f, 0x80 and 0xff, so that prefixes,
  // bytes above 0x7f and empty bounds all occur; the reference compares bytes (Buffer.compare)
  const rand = prng(0x5eed);
  const rnd = (n: number) => randInt(rand, n);
  const alphabet = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
  const randKey = () => new Uint8Array(Array.from({ length: rnd(4) }, () => alphabet[rnd(alphabet.length)]!));
  const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
  let checked = 0;
  for (let round = 0; round < 60; round++) {
    const base = new MemoryKvStore();
    const model = new Map<string, string>();
    const baseOps = Array.from({ length: rnd(12) }, () => ({ key: randKey(), value: k(`b${rnd(100)}`) })).filter((x) => x.key.length > 0);
    await base.batch(baseOps.map((x) => ({ type: 'put' as const, key: x.key, value: x.value })));
    for (const x of baseOps) model.set(hexOf(x.key), Buffer.from(x.value).toString());
    const o = new Overlay(base);
    for (let i = 0; i < 15; i++) {
      const key = randKey();
      if (key.length === 0) continue;
      if (rnd(3) === 0) {
        o.delete(key);
        model.delete(hexOf(key));
      } else {
        const v = `o${rnd(100)}`;
        o.set(key, k(v));
        model.set(hexOf(key), v);
      }
    }
    for (let q = 0; q < 5; q++) {
      const gte = rnd(4) === 0 ? undefined : randKey();
      const lt = rnd(4) === 0 ? undefined : randKey();
      const reverse = rnd(2) === 0;
      const limit = rnd(3) === 0 ? 1 + rnd(4) : undefined;
      const expected = [...model.entries()]
        .map(([h, v]) => [Buffer.from(h, 'hex'), v] as const)
        .filter(([kb]) => (gte === undefined || Buffer.compare(kb, gte) >= 0) && (lt === undefined || Buffer.compare(kb, lt) < 0))
        .sort((a, b) => Buffer.compare(a[0], b[0]) * (reverse ? -1 : 1))
        .slice(0, limit ?? Infinity)
        .map(([kb, v]) => `${kb.toString('hex')}=${v}`);
      const got: string[] = [];
      for await (const [kb, v] of o.range({ ...(gte ? { gte } : {}), ...(lt ? { lt } : {}), reverse, ...(limit ? { limit } : {}) })) got.push(`${hexOf(kb)}=${Buffer.from(v).toString()}`);
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        t.same(got, expected, `round ${round} query ${q}: gte ${gte && hexOf(gte)} lt ${lt && hexOf(lt)} reverse ${reverse} limit ${limit}`);
        return;
      }
      checked++;
    }
    const changes = o.changes().map((c) => hexOf(c.key));
    t.same(changes, [...changes].sort((a, b) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'))), `round ${round}: changes() in byte order`);
  }
  t.equal(checked, 300, 'every query matched the reference');
});

t.test('checkpoints against a model: random writes, nested commits and reverts (seeded)', async (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = prng(seed);
    const base = new MemoryKvStore();
    await base.batch(['k0', 'k1', 'k2'].map((x) => ({ type: 'put' as const, key: k(x), value: k(`base-${x}`) })));
    const o = new Overlay(base);
    // the model: the visible state, and a snapshot of it per open checkpoint
    let model = new Map<string, string | undefined>([['k0', 'base-k0'], ['k1', 'base-k1'], ['k2', 'base-k2']]);
    const snaps: Map<string, string | undefined>[] = [];
    for (let step = 0; step < 300; step++) {
      const op = randInt(rand, 10);
      const key = `k${randInt(rand, 6)}`;
      if (op < 4) {
        const v = `v${seed}-${step}`;
        if (op === 0) o.setValue(k(key), v, (x) => k(x));
        else o.set(k(key), k(v));
        model.set(key, v);
      } else if (op < 5) {
        o.delete(k(key));
        model.set(key, undefined);
      } else if (op < 7) {
        o.checkpoint();
        snaps.push(new Map(model));
      } else if (op < 8 && snaps.length > 0) {
        o.commitCheckpoint();
        snaps.pop();
      } else if (snaps.length > 0) {
        o.revert();
        model = snaps.pop()!;
      }
      if (o.depth !== snaps.length) t.fail(`seed ${seed} step ${step}: depth ${o.depth}, model ${snaps.length}`);
      for (let i = 0; i < 6; i++) {
        const got = str(o.get(k(`k${i}`)));
        if (got !== model.get(`k${i}`)) t.fail(`seed ${seed} step ${step}: k${i} is ${got}, model ${model.get(`k${i}`)}`);
      }
    }
  }
  t.pass('40 seeds × 300 steps agree with the model');
});
