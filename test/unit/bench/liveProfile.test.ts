// bench/lib/liveProfile.ts charges profile samples to subsystems by source file; validators run the
// compiled JavaScript (dist/<fingerprint>/…/x.js), which must count as its TypeScript source.
import t from 'tap';
import { resolve } from 'node:path';
import { sourceOf } from '../../../bench/lib/liveProfile.js';

const ROOT = 'file://' + resolve(import.meta.dirname, '../../..') + '/';

t.test('compiled files count as their sources; others are relative to the repository', async (t) => {
  t.equal(sourceOf(`${ROOT}dist/0123456789abcdef/state/tx.js`), 'state/tx.ts');
  t.equal(sourceOf(`${ROOT}dist/0123456789abcdef/protocols/bank/store.js`), 'protocols/bank/store.ts');
  t.equal(sourceOf(`${ROOT}state/tx.ts`), 'state/tx.ts', 'run through tsx');
  t.equal(sourceOf(`${ROOT}node_modules/@libp2p/gossipsub/dist/src/gossipsub.js`), 'node_modules/@libp2p/gossipsub/dist/src/gossipsub.js');
  t.equal(sourceOf(`${ROOT}dist/not-a-build/x.js`), 'dist/not-a-build/x.js');
  t.equal(sourceOf('node:internal/crypto/hash'), 'node:internal/crypto/hash');
});
