// The decoded-tx cache (state/tx.ts decodeTxCached): hits return the same decode, and the cache is
// bounded by bytes as well as entries, so a peer sending many large, badly signed but well-formed
// txs cannot grow a validator's memory (decode runs before the signature check).
import t from 'tap';
import { decodeTx, decodeTxCached, decodedTxCacheSize, forgetDecodedTxs, encodeTx, checkTxStateless, TX_VERSION, MAX_ARGS_BYTES } from '../../../state/tx.js';
import { ERR } from '../../../lib/errors.js';
import { testKey, CHAIN_ID } from '../../utils/chain.js';

const key = testKey('tx-cache');
const body = (nonce: number, argsBytes: number) => ({
  version: TX_VERSION,
  chainId: CHAIN_ID,
  keyType: key.type,
  publicKey: key.publicKey,
  nonce,
  moduleId: 1,
  methodId: 1,
  args: new Uint8Array(argsBytes).fill(nonce % 251),
  fee: 0n,
});
const unsigned = (nonce: number, argsBytes: number) => encodeTx({ body: body(nonce, argsBytes), signature: new Uint8Array(64).fill(1) });

t.test('a cached decode equals a fresh one; a second call is a hit', async (t) => {
  const raw = unsigned(1, 10);
  const a = decodeTxCached(raw);
  t.equal(decodeTxCached(new Uint8Array(raw)), a, 'same bytes in another buffer: the same object');
  t.same(a.id, decodeTx(raw).id);
  t.throws(() => checkTxStateless(raw, CHAIN_ID), { code: ERR.BAD_SIGNATURE }, 'caching a decode never skips the signature check');
});

t.test('large well-formed txs with bad signatures do not grow the cache past its byte bound', async (t) => {
  let total = 0;
  for (let n = 0; n < 600; n++) {
    const raw = unsigned(1000 + n, MAX_ARGS_BYTES - 1024);
    total += raw.length;
    t.throws(() => checkTxStateless(raw, CHAIN_ID), { code: ERR.BAD_SIGNATURE });
  }
  const size = decodedTxCacheSize();
  t.ok(total > 32 * 1024 * 1024, `${(total / 2 ** 20).toFixed(0)} MiB of txs went through`);
  t.ok(size.bytes <= 16 * 1024 * 1024, `the cache holds ${(size.bytes / 2 ** 20).toFixed(1)} MiB`);
  t.ok(size.entries < 600, `${size.entries} entries kept`);
});

t.test('past its entry bound the cache keeps the txs in use and stays within the bound', async (t) => {
  const first = unsigned(50_000, 4);
  const kept = decodeTxCached(first);
  for (let n = 1; n <= 20_500; n++) {
    decodeTxCached(unsigned(50_000 + n, 4));
    if (n % 5000 === 0) t.equal(decodeTxCached(first), kept, `after ${n} more txs, a tx in use is still a hit`);
  }
  const size = decodedTxCacheSize();
  t.ok(size.entries <= 20_000, `${size.entries} entries`);
  t.ok(size.entries >= 10_000, 'and keeps at least the last half-bound of txs (two generations)');
});

t.test('forgetDecodedTxs drops committed txs: the next decode is a fresh object, other entries stay', async (t) => {
  const [a, b] = [unsigned(5001, 10), unsigned(5002, 10)];
  const da = decodeTxCached(a);
  const db = decodeTxCached(b);
  const before = decodedTxCacheSize().entries;
  forgetDecodedTxs([a, new Uint8Array(3)]); // a stranger among them is ignored
  t.equal(decodedTxCacheSize().entries, before - 1, 'one entry gone');
  t.not(decodeTxCached(a), da, 'a forgotten tx is decoded again');
  t.equal(decodeTxCached(b), db, 'the other tx is still a hit');
});
