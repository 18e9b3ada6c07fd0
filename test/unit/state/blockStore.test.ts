// Block store rows written per block: the tx index rows ([height, index], built from the height's
// bytes once per block) must be byte-equal to the codec's encoding at every index form, and a block
// stored from its given encoding reads back as the block.
import t from 'tap';
import { BlockStore, txLocCodec } from '../../../state/blockStore.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { PREFIX } from '../../../state/prefixes.js';
import { encode } from '../../../lib/encoding.js';
import { encodeBlock, MAX_BLOCK_TXS, type Block } from '../../../state/block.js';

const id = (i: number) => {
  const b = new Uint8Array(32).fill(7);
  new DataView(b.buffer).setUint32(0, i);
  return b;
};
const header = (height: number): Block['header'] => ({
  chainId: 'store-test',
  height,
  time: 1_700_000_000_000 + height,
  prevHash: new Uint8Array(32),
  txRoot: new Uint8Array(32).fill(1),
  stateRoot: new Uint8Array(32).fill(2),
  resultsRoot: new Uint8Array(32).fill(3),
  proposer: new Uint8Array(20).fill(4),
  validatorSetHash: new Uint8Array(32).fill(5),
});
const cert = (height: number) => ({ height, view: 0, blockHash: new Uint8Array(32), votes: [] });

t.test('tx index rows equal the codec encoding at every index form and height size, and resolve', async (t) => {
  for (const height of [1, 200, 70_000, 2 ** 32 + 5]) {
    const store = new MemoryKvStore();
    const blocks = new BlockStore(store);
    const n = height === 1 ? MAX_BLOCK_TXS : 300;
    const ids = Array.from({ length: n }, (_, i) => id(i + height));
    const block: Block = { header: header(height), txs: [] };
    const ops = blocks.blockOps(block, new Uint8Array(32), ids, [], cert(height));
    await store.batch(ops);
    let bad = 0;
    for (const [i, tx] of ids.entries()) {
      const loc = blocks.txLocation(tx);
      if (!loc || loc.height !== height || loc.index !== i) bad++;
    }
    t.equal(bad, 0, `height ${height}: ${n} txs resolve to their index`);
    const rows = ops.filter((o) => o.type === 'put' && o.key[0] === PREFIX.TX_INDEX);
    const mismatch = rows.filter((o, i) => Buffer.compare(Buffer.from((o as { value: Uint8Array }).value), Buffer.from(encode(txLocCodec, [height, i]))) !== 0);
    t.equal(mismatch.length, 0, `height ${height}: rows byte-equal to encode(txLocCodec)`);
  }
});

t.test('a block stored from its given encoding reads back as the block', async (t) => {
  const store = new MemoryKvStore();
  const blocks = new BlockStore(store);
  const block: Block = { header: header(3), txs: [Uint8Array.of(1, 2, 3)] };
  await store.batch(blocks.blockOps(block, new Uint8Array(32), [], [], cert(3), encodeBlock(block)));
  t.same(blocks.block(3), block);
});
