import t from 'tap';
import { Mempool } from '../../../mempool/mempool.js';
import { testChain, testKey, addr, transferTx } from '../../utils/chain.js';
import { InvalidMessageError } from '../../../lib/errors.js';
import { decodeTx, type DecodedTx } from '../../../state/tx.js';
import { prng, randInt } from '../../utils/prng.js';

const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');

async function setup(opts: { maxTxs?: number; maxBytes?: number; nonceWindow?: number } = {}) {
  const c = await testChain({ funded: [[alice, 10_000n], [bob, 10_000n], [carol, 10_000n]], minFee: 1n });
  const m = new Mempool({ checkTx: (raw) => c.app.checkTx(raw), nonceOf: (s) => c.app.account(s).nonce, ...opts });
  return { c, m };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof InvalidMessageError ? e.code : 'OTHER';
  }
  return 'ACCEPTED';
}

t.test('admission: dedup, nonce window, nonce taken, replace by fee', async (t) => {
  const { m } = await setup({ nonceWindow: 4 });
  const tx0 = transferTx(alice, addr(bob), 1n, 0, 1n);
  m.add(tx0);
  t.equal(code(() => m.add(tx0)), 'TX_DUPLICATE');
  t.equal(code(() => m.add(transferTx(alice, addr(bob), 1n, 4, 1n))), 'TX_BAD_NONCE', 'beyond the window');
  t.equal(code(() => m.add(transferTx(alice, addr(bob), 2n, 0, 1n))), 'TX_NONCE_TAKEN', 'same nonce, same fee');
  t.equal(code(() => m.add(transferTx(alice, addr(bob), 2n, 0, 5n))), 'ACCEPTED', 'replace by higher fee');
  t.equal(m.size, 1);
  t.equal(code(() => m.add(transferTx(alice, addr(bob), 1n, 0, 0n))), 'TX_FEE_TOO_LOW');
  t.equal(m.admitted, 2, 'admitted counts the first tx and its replacement, not the four refusals');
});

t.test('admitted only grows: removal by commit or drop does not lower it', async (t) => {
  const { m } = await setup();
  const txs = [0, 1, 2].map((n) => transferTx(alice, addr(bob), 1n, n, 1n));
  for (const tx of txs) m.add(tx);
  t.equal(m.admitted, 3);
  m.drop([txs[2]!]);
  m.update([decodeTx(txs[0]!).idHex]);
  t.equal(m.size, 1);
  t.equal(m.admitted, 3);
});

t.test('reap takes contiguous nonces per sender, round robin, within limits', async (t) => {
  const { m } = await setup();
  const a = [0, 1, 2, 4].map((n) => transferTx(alice, addr(carol), 1n, n, 1n)); // 4 is behind a gap
  const b = [0, 1].map((n) => transferTx(bob, addr(carol), 1n, n, 1n));
  for (const x of [...a, ...b]) m.add(x);
  const r = m.reap(100, 1 << 20);
  t.same(r, [a[0], b[0], a[1], b[1], a[2]], 'interleaved, gap excluded');
  t.equal(m.reap(2, 1 << 20).length, 2, 'count limit');
  t.equal(m.reap(100, a[0]!.length + 10).length, 1, 'byte limit');
});

t.test('update after commit removes committed and stale transactions', async (t) => {
  const { c, m } = await setup();
  const txs = [0, 1, 2].map((n) => transferTx(alice, addr(bob), 1n, n, 1n));
  for (const x of txs) m.add(x);
  const b = await c.block(m.reap(2, 1 << 20));
  m.update(b.txIdsHex);
  t.equal(m.size, 1);
  t.same(m.reap(10, 1 << 20), [txs[2]]);
});

t.test('caps: full mempool evicts the cheapest tail or refuses', async (t) => {
  const { m } = await setup({ maxTxs: 2 });
  m.add(transferTx(alice, addr(bob), 1n, 0, 1n));
  m.add(transferTx(bob, addr(alice), 1n, 0, 3n));
  t.equal(code(() => m.add(transferTx(carol, addr(alice), 1n, 0, 1n))), 'MEMPOOL_FULL', 'no cheaper victim');
  t.equal(code(() => m.add(transferTx(carol, addr(alice), 1n, 0, 2n))), 'ACCEPTED', 'evicts the fee-1 tx');
  t.equal(m.size, 2);
  const first = transferTx(alice, addr(bob), 1n, 0, 1n);
  const { m: small } = await setup({ maxBytes: first.length + 10 });
  small.add(first);
  t.equal(code(() => small.add(transferTx(alice, addr(bob), 1n, 1, 1n))), 'MEMPOOL_FULL', 'byte cap');
  t.equal(small.sizeBytes, first.length);
});

t.test('drop removes refused transactions by their bytes', async (t) => {
  const { m } = await setup();
  const a = transferTx(alice, addr(bob), 1n, 0, 1n);
  const b = transferTx(bob, addr(alice), 1n, 0, 1n);
  m.add(a);
  m.add(b);
  m.drop([Uint8Array.from(a), new Uint8Array([1, 2, 3])]);
  t.equal(m.size, 1);
  t.same(m.reap(10, 1 << 20), [b]);
  m.drop([b, b]);
  t.equal(m.size, 0, 'by the same object too; twice in one call is harmless');
  t.equal(m.sizeBytes, 0);
});

t.test('drop of many txs from a full pool: the reaped objects and equal copies, in one pass', async (t) => {
  const keys = Array.from({ length: 16 }, (_, i) => testKey(`drop-many-${i}`));
  const c = await testChain({ funded: keys.map((k) => [k, 1_000_000n] as [typeof k, bigint]), minFee: 1n });
  const m = new Mempool({ checkTx: (raw) => c.app.checkTx(raw), nonceOf: (s) => c.app.account(s).nonce });
  for (let n = 0; n < 200; n++) for (const k of keys) m.add(transferTx(k, addr(keys[0]!), 1n, n, 1n));
  t.equal(m.size, 3200);
  const reaped = m.reap(3200, 1 << 30);
  // what a proposal drops: 1,000 reaped objects and 1,000 equal copies of others, plus strangers
  const dropped = [...reaped.slice(0, 1000), ...reaped.slice(1000, 2000).map((r) => Uint8Array.from(r)), new Uint8Array([9, 9])];
  m.drop(dropped);
  t.equal(m.size, 1200, 'exactly the 2,000 named txs left');
  t.ok(reaped.slice(2000).every((r) => m.has(decodeTx(r).idHex)), 'the others are all still there');
  t.notOk(reaped.slice(0, 2000).some((r) => m.has(decodeTx(r).idHex)), 'and none of the dropped');
  t.equal(m.sizeBytes, reaped.slice(2000).reduce((n, r) => n + r.length, 0));
  // the freed nonces can be taken again (the per-sender index was updated too)
  const again = transferTx(keys[1]!, addr(keys[0]!), 1n, 0, 1n);
  t.doesNotThrow(() => m.add(again));
});

t.test('eviction at a full pool takes the cheapest sender tail, as a full scan would (seeded random operations)', async (t) => {
  // stand-in txs (the admission check is not under test): fee, nonce and sender chosen at random
  type Fake = { raw: Uint8Array; idHex: string; sender: Uint8Array; senderHex: string; body: { nonce: number; fee: bigint } };
  const rand = prng(20261124);
  let made = 0;
  const fake = (sender: number, nonce: number, fee: bigint): Fake => {
    const raw = new Uint8Array(8 + (made % 5)).fill(made % 251);
    new DataView(raw.buffer).setUint32(0, made++);
    return { raw, idHex: `0x${made}`, sender: Uint8Array.of(sender), senderHex: `0x${sender}`, body: { nonce, fee } };
  };
  let next: Fake | undefined;
  const committed = new Map<number, number>();
  const m = new Mempool({ checkTx: () => next as unknown as DecodedTx, nonceOf: (s) => committed.get(s[0]!) ?? 0, maxTxs: 40, nonceWindow: 1000 });
  const bySender = (m as unknown as { bySender: Map<string, Map<number, { tx: Fake; seq: number }>> }).bySender;
  /** the old full scan: each sender's highest nonce, lowest fee, newest among equal fees */
  const scan = () => {
    let best: { tx: Fake; seq: number } | undefined;
    for (const q of bySender.values()) {
      let top: { tx: Fake; seq: number } | undefined;
      for (const e of q.values()) if (!top || e.tx.body.nonce > top.tx.body.nonce) top = e;
      if (top && (!best || top.tx.body.fee < best.tx.body.fee || (top.tx.body.fee === best.tx.body.fee && top.seq > best.seq))) best = top;
    }
    return best;
  };
  const nextNonce = new Map<number, number>();
  let evictions = 0;
  let refusals = 0;
  let mismatches = 0;
  for (let step = 0; step < 5000; step++) {
    const op = randInt(rand, 10);
    const s = randInt(rand, 12);
    if (op < 7) {
      // a new tx (sometimes a replacement of a pending nonce)
      const n = nextNonce.get(s) ?? 0;
      const nonce = op === 0 && n > 0 ? randInt(rand, n) : n;
      const tx = fake(s, nonce, BigInt(1 + randInt(rand, 6)));
      // a replacement frees its own slot; otherwise a full pool must evict (or refuse)
      const evicting = m.size >= m.maxTxs && bySender.get(tx.senderHex)?.get(nonce) === undefined;
      const expected = evicting ? scan() : undefined;
      next = tx;
      let refused = false;
      try {
        m.add(tx.raw);
        if (nonce === n) nextNonce.set(s, n + 1);
      } catch {
        refused = true;
      }
      if (expected) {
        if (refused) {
          refusals++;
          if (expected.tx.body.fee < tx.body.fee || !m.has(expected.tx.idHex)) mismatches++; // refused only when nothing is cheaper
        } else {
          evictions++;
          if (m.has(expected.tx.idHex) || expected.tx.body.fee >= tx.body.fee) mismatches++;
        }
      }
    } else if (op < 9) {
      // a commit: the sender's next nonce moves on
      const c = (committed.get(s) ?? 0) + 1 + randInt(rand, 2);
      committed.set(s, c);
      if ((nextNonce.get(s) ?? 0) < c) nextNonce.set(s, c);
      m.update([], [Uint8Array.of(s)]);
    } else {
      // a proposal drops one of the sender's txs
      const q = bySender.get(`0x${s}`);
      const e = q ? [...q.values()][randInt(rand, q.size)] : undefined;
      if (e) m.drop([e.tx.raw]);
    }
  }
  t.ok(evictions > 200, `evictions happened (${evictions}) and were refused when nothing was cheaper (${refusals})`);
  t.ok(refusals > 50);
  t.equal(mismatches, 0, 'every eviction removed the tx a full scan picks');
  t.ok(m.size <= m.maxTxs);
});
