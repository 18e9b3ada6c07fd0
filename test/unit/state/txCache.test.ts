// The decoded-tx cache (state/tx.ts decodeTxCached): hits return the same decode, and the cache is
// bounded by bytes as well as entries, so a peer sending many large, badly signed but well-formed
// txs cannot grow a validator's memory (decode runs before the signature check).
import t from 'tap';
import { decodeTx, decodeTxCached, decodedTxCacheSize, forgetDecodedTxs, encodeTx, buildTx, checkTxStateless, verifyAhead, txSignatureChecks, TX_VERSION, MAX_ARGS_BYTES } from '../../../state/tx.js';
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
  const entries = size.entries;
  for (let n = 0; n < 300; n++) {
    const garbage = new Uint8Array(MAX_ARGS_BYTES).fill(n % 251); // not a tx at all
    t.throws(() => checkTxStateless(garbage, CHAIN_ID), { code: ERR.ENCODING });
  }
  t.equal(decodedTxCacheSize().entries, entries, 'undecodable bytes leave nothing behind');
});

t.test('past its entry bound the cache keeps the txs in use and stays within the bound', async (t) => {
  const first = unsigned(50_000, 4);
  const kept = decodeTxCached(first);
  for (let n = 1; n <= 20_500; n++) {
    decodeTxCached(unsigned(50_000 + n, 4));
    // another bytes object with the same bytes: a lookup in the cache itself, not the tag on `first`
    if (n % 5000 === 0) t.equal(decodeTxCached(new Uint8Array(first)), kept, `after ${n} more txs, a tx in use is still a hit`);
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

t.test('a signature is checked once per decoded tx, whether it passed or failed', async (t) => {
  const good = buildTx(key, { chainId: CHAIN_ID, nonce: 5000, moduleId: 1, methodId: 1, args: new Uint8Array(3), fee: 0n });
  const bad = unsigned(5001, 3);
  const before = txSignatureChecks();
  checkTxStateless(good, CHAIN_ID);
  checkTxStateless(new Uint8Array(good), CHAIN_ID);
  t.equal(txSignatureChecks() - before, 1, 'a verified tx is not verified again');
  t.throws(() => checkTxStateless(bad, CHAIN_ID), { code: ERR.BAD_SIGNATURE });
  t.throws(() => checkTxStateless(new Uint8Array(bad), CHAIN_ID), { code: ERR.BAD_SIGNATURE }, 'a failed tx still fails');
  t.equal(txSignatureChecks() - before, 2, 'a failed tx is not verified again either');
});

t.test('verifyAhead checks a batch back to back, never throws, and admission then finds every outcome', async (t) => {
  const goods = [0, 1, 2].map((i) => buildTx(key, { chainId: CHAIN_ID, nonce: 6000 + i, moduleId: 1, methodId: 1, args: new Uint8Array(2), fee: 0n }));
  const bad = unsigned(6100, 2);
  const other = buildTx(key, { chainId: 'other-chain', nonce: 6200, moduleId: 1, methodId: 1, args: new Uint8Array(2), fee: 0n });
  const garbage = new Uint8Array([1, 2, 3]);
  const batch = [goods[0]!, bad, goods[1]!, other, garbage, goods[2]!];
  const before = txSignatureChecks();
  t.equal(verifyAhead(batch, CHAIN_ID), 3, 'three pass; the bad signature, the foreign chain and the garbage do not');
  t.equal(txSignatureChecks() - before, 4, 'one check per decodable tx of this chain');
  for (const g of goods) checkTxStateless(g, CHAIN_ID);
  t.throws(() => checkTxStateless(bad, CHAIN_ID), { code: ERR.BAD_SIGNATURE });
  t.throws(() => checkTxStateless(other, CHAIN_ID), { code: ERR.WRONG_CHAIN });
  t.throws(() => checkTxStateless(garbage, CHAIN_ID), { code: ERR.ENCODING });
  t.equal(txSignatureChecks() - before, 4, 'admission afterwards verifies nothing again');

  const more = [0, 1].map((i) => buildTx(key, { chainId: CHAIN_ID, nonce: 6300 + i, moduleId: 1, methodId: 1, args: new Uint8Array(2), fee: 0n }));
  const start = txSignatureChecks();
  t.equal(verifyAhead([more[0]!, unsigned(6400, 2), more[1]!], CHAIN_ID, true), 1, 'stopAtFailure ends the pass at the first failure');
  t.equal(txSignatureChecks() - start, 2, 'the tx after the failure was not checked');
});

t.test('a bytes object remembers its decode; invalid bytes are not remembered; forgetting clears it', async (t) => {
  const raw = unsigned(7001, 10);
  const first = decodeTxCached(raw);
  const before = decodedTxCacheSize().entries;
  t.equal(decodeTxCached(raw), first, 'the same object again');
  forgetDecodedTxs([raw]);
  t.equal(decodedTxCacheSize().entries, before - 1, 'forgotten by its own bytes object');
  const again = decodeTxCached(raw);
  t.not(again, first, 'a fresh decode after forgetting');
  t.same(again.id, first.id);
  const bad = new Uint8Array(raw);
  bad[bad.length - 70]! ^= 0xff; // a byte of the body's tail (the args): still a well-formed tx, another one
  const copy = new Uint8Array(raw);
  t.equal(decodeTxCached(copy), again, 'same bytes, another object: the cache');
  const garbage = Uint8Array.of(0x93, 1, 2);
  t.throws(() => decodeTxCached(garbage), { code: ERR.ENCODING });
  t.throws(() => decodeTxCached(garbage), { code: ERR.ENCODING }, 'a failed decode is not remembered: it fails again');
  const other = decodeTxCached(bad);
  t.not(other.idHex, again.idHex, 'different bytes, a different tx');
});
