import t from 'tap';
import { Overlay } from '../../../state/overlay.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { utf8 } from '../../../lib/hex.js';

t.test('set copies the value; setOwned keeps the very object, and revert restores the previous one', async (t) => {
  const o = new Overlay(new MemoryKvStore());
  const v = utf8('1');
  o.set(utf8('a'), v);
  v[0] = 0x39;
  t.equal(Buffer.from(o.get(utf8('a'))!).toString(), '1', 'set is not affected by the caller reusing its buffer');
  const owned = utf8('2');
  o.setOwned(utf8('b'), owned);
  t.equal(o.get(utf8('b')), owned, 'setOwned stores the object itself');
  o.checkpoint();
  o.setOwned(utf8('b'), utf8('3'));
  o.revert();
  t.equal(o.get(utf8('b')), owned, 'revert restores the same object');
  t.same(
    o.changes().map((c) => [Buffer.from(c.key).toString(), Buffer.from(c.value!).toString()]),
    [['a', '1'], ['b', '2']],
  );
});
