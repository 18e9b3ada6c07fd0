import t from 'tap';
import { Overlay } from '../../../state/overlay.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { utf8 } from '../../../lib/hex.js';

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
