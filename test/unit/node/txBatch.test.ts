// Tx gossip batches: the canonical batch encoding and the batcher's flush rules (manual clock).
import t from 'tap';
import { TxBatcher, encodeTxBatch, decodeTxBatch, maxBatchBytes } from '../../../node/txBatch.js';
import { ERR } from '../../../lib/errors.js';

const limits = { maxTxBytes: 16, maxTxs: 4, maxBytes: 40 };
const tx = (n: number, len = 8) => new Uint8Array(len).fill(n);

function manualBatcher(publish: (b: Uint8Array) => Promise<void> = async () => undefined) {
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const published: Uint8Array[][] = [];
  const b = new TxBatcher({
    limits,
    delayMs: 5,
    publish: async (batch) => {
      published.push(decodeTxBatch(batch, limits));
      await publish(batch);
    },
    schedule: (fn, ms) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  });
  const fire = () => timers.filter((x) => !x.cancelled).forEach((x) => ((x.cancelled = true), x.fn()));
  return { b, timers, published, fire };
}

t.test('encoding: canonical list round trip; every malformed batch is refused with a code', async (t) => {
  const txs = [tx(1), tx(2, 16)];
  t.same(decodeTxBatch(encodeTxBatch(txs, limits), limits), txs);
  t.throws(() => decodeTxBatch(encodeTxBatch([], limits), limits), { code: ERR.ENCODING, message: /no transactions/ });
  t.throws(() => decodeTxBatch(encodeTxBatch([tx(1), new Uint8Array(0)], limits), limits), { code: ERR.ENCODING, message: /empty transaction/ });
  t.throws(() => decodeTxBatch(new Uint8Array([0x95, 0xc4, 1, 1, 0xc4, 1, 2, 0xc4, 1, 3, 0xc4, 1, 4, 0xc4, 1, 5]), limits), { code: ERR.ENCODING }, 'more than maxTxs');
  t.throws(() => decodeTxBatch(new Uint8Array([0x91, 0xc4, 17, ...new Uint8Array(17)]), limits), { code: ERR.ENCODING }, 'a tx over maxTxBytes');
  t.throws(() => decodeTxBatch(new Uint8Array([0x91, 0xc5, 0, 1, 7]), limits), { code: ERR.ENCODING, message: /non-canonical/ }, 'bin16 header for a 1-byte tx');
  t.throws(() => decodeTxBatch(new Uint8Array([0x91, 0xa1, 0x41]), limits), { code: ERR.ENCODING }, 'a string instead of bytes');
  t.throws(() => decodeTxBatch(new Uint8Array([0x92, 0xc4, 1, 1]), limits), { code: ERR.ENCODING }, 'truncated');
  t.throws(() => decodeTxBatch(new Uint8Array(maxBatchBytes(limits) + 1), limits), { code: ERR.TOO_LARGE });
  const batch = encodeTxBatch([tx(3)], limits);
  const decoded = decodeTxBatch(batch, limits);
  t.not(decoded[0]!.buffer, batch.buffer, 'txs are copied out of the batch buffer…');
  t.ok(decoded[0]!.buffer.byteLength <= 8192, '…into a pool slab at most (a kept tx does not pin a large batch)');
  t.same(decoded[0], tx(3));
  batch.fill(0);
  t.same(decoded[0], tx(3), 'a later write to the batch buffer does not reach the copy');
});

t.test('batcher: one batch per delay; flushes at once on maxTxs or maxBytes; add resolves on publish', async (t) => {
  const { b, timers, published, fire } = manualBatcher();
  const p1 = b.add(tx(1));
  const p2 = b.add(tx(2));
  t.equal(timers.length, 1, 'one timer per batch');
  t.equal(timers[0]!.ms, 5);
  t.equal(published.length, 0, 'nothing before the delay');
  fire();
  await Promise.all([p1, p2]);
  t.same(published, [[tx(1), tx(2)]]);

  const four = [1, 2, 3, 4].map((i) => b.add(tx(i, 2)));
  await Promise.all(four);
  t.equal(published.length, 2, 'the 4th tx (maxTxs) flushes without waiting');
  t.ok(timers[1]!.cancelled, 'and cancels the batch timer');

  const big = [b.add(tx(5, 16)), b.add(tx(6, 16)), b.add(tx(7, 16))];
  await Promise.all(big);
  t.same(published[2]!.length, 3, '48 bytes ≥ maxBytes 40 flushes');
  b.flush();
  t.equal(published.length, 3, 'flushing an empty batcher publishes nothing');
});

t.test('batcher: a failed publish rejects every add of that batch; close rejects what is pending', async (t) => {
  const { b, fire } = manualBatcher(async () => {
    throw new Error('no peers');
  });
  const ps = [b.add(tx(1)), b.add(tx(2))];
  fire();
  for (const p of ps) await t.rejects(p, /no peers/);
  const pending = b.add(tx(3));
  b.close(new Error('stopped'));
  await t.rejects(pending, /stopped/);
  t.equal(b.pending, 0);
});
