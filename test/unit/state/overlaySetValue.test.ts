import t from 'tap';
import { Overlay } from '../../../state/overlay.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { utf8 } from '../../../lib/hex.js';
import { scopedStore, scopedReader } from '../../../protocols/module.js';

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString());

t.test('setValue keeps the decoded value; its bytes are encoded once, when first asked for', async (t) => {
  const o = new Overlay(new MemoryKvStore());
  let encodes = 0;
  const enc = (v: { n: number }): Uint8Array => {
    encodes++;
    return utf8(`n=${v.n}`);
  };
  const v1 = Object.freeze({ n: 1 });
  o.setValue(utf8('k'), v1, enc);
  t.equal(o.getValue(utf8('k')), v1, 'getValue gives the very object');
  t.equal(encodes, 0, 'nothing encoded yet');
  o.setValue(utf8('k'), Object.freeze({ n: 2 }), enc);
  const b = o.get(utf8('k'));
  t.equal(text(b), 'n=2', 'get encodes the latest value');
  t.equal(o.get(utf8('k')), b, 'the same bytes object afterwards');
  t.equal(encodes, 1, 'the overwritten value was never encoded, the latest once');
  t.same(o.changes().map((c) => [text(c.key), text(c.value)]), [['k', 'n=2']]);
  t.equal(encodes, 1, 'changes() reuses the bytes get made');
});

t.test('getValue is undefined for bytes, deletions, absent keys and the committed store', async (t) => {
  const base = new MemoryKvStore();
  await base.batch([{ type: 'put', key: utf8('c'), value: utf8('committed') }]);
  const o = new Overlay(base);
  o.set(utf8('b'), utf8('bytes'));
  o.setValue(utf8('d'), { n: 1 }, () => utf8('x'));
  o.delete(utf8('d'));
  t.equal(o.getValue(utf8('b')), undefined, 'a key written as bytes');
  t.equal(o.getValue(utf8('c')), undefined, 'a committed key');
  t.equal(o.getValue(utf8('d')), undefined, 'a deleted key');
  t.equal(o.get(utf8('d')), undefined);
  t.equal(o.getValue(utf8('z')), undefined, 'an absent key');
});

t.test('checkpoints: revert restores the earlier value object, commitCheckpoint keeps the new one', async (t) => {
  const o = new Overlay(new MemoryKvStore());
  const enc = (v: { n: number }): Uint8Array => utf8(`n=${v.n}`);
  const a = { n: 1 };
  o.setValue(utf8('k'), a, enc);
  o.checkpoint();
  o.setValue(utf8('k'), { n: 2 }, enc);
  o.setValue(utf8('new'), { n: 3 }, enc);
  o.revert();
  t.equal(o.getValue(utf8('k')), a);
  t.equal(o.get(utf8('new')), undefined, 'a key first written inside the reverted checkpoint is gone');
  o.checkpoint();
  const b = { n: 4 };
  o.setValue(utf8('k'), b, enc);
  o.commitCheckpoint();
  t.equal(o.getValue(utf8('k')), b);
  t.same(o.changes().map((c) => [text(c.key), text(c.value)]), [['k', 'n=4']]);
});

t.test('range and module scopes see encoded bytes; getValue passes through a scoped store, not past a plain reader', async (t) => {
  const base = new MemoryKvStore();
  const o = new Overlay(base);
  const st = scopedStore(o, 7);
  const v = Object.freeze({ n: 5 });
  st.setValue(utf8('acct'), v, (x) => utf8(`n=${x.n}`));
  t.equal(st.getValue(utf8('acct')), v, 'through the module scope');
  t.equal(text(st.get(utf8('acct'))), 'n=5');
  const seen: [string | undefined, string | undefined][] = [];
  for await (const [k, val] of st.entries(utf8('a'))) seen.push([text(k), text(val)]);
  t.same(seen, [['acct', 'n=5']], 'range encodes the value');
  t.equal(scopedReader(base, 7).getValue(utf8('acct')), undefined, 'a reader over a store without decoded values says undefined');
  const recording = { get: (k: Uint8Array) => o.get(k), range: o.range.bind(o) };
  t.equal(scopedReader(recording, 7).getValue(utf8('acct')), undefined, 'a reader without getValue (proof recording) never skips get');
});
