// A block's results are encoded once (state/block.ts encodeTxResults) for the results root and for
// the stored list: encodeTxResultsList over those encodings must give exactly encode(txResultsCodec),
// at every array-header size, and round-trip through the stored-list decoder.
import t from 'tap';
import { encodeTxResults, encodeTxResultsList, resultsRoot, resultsRootOfEncoded, txResultsCodec, MAX_BLOCK_TXS, type TxResult } from '../../../state/block.js';
import { encode, decode } from '../../../lib/encoding.js';

const result = (i: number): TxResult =>
  i % 3 === 0
    ? { code: 'TX_FAILED', message: `failure ${i} — é`, events: [] }
    : { code: '', message: '', events: [{ module: 'bank', type: 'transfer', attributes: [['from', `0x${i}`], ['amount', String(i * 7)]] }] };

t.test('encoded once, listed: the same bytes as the generic list encoder at 0, 1, 15, 16, 300 and the maximum', async (t) => {
  for (const n of [0, 1, 15, 16, 17, 300, MAX_BLOCK_TXS]) {
    const rs = Array.from({ length: n }, (_, i) => result(i));
    const items = encodeTxResults(rs);
    const listed = encodeTxResultsList(items);
    t.same(Buffer.from(listed), Buffer.from(encode(txResultsCodec, rs)), `${n} results`);
    if (n <= 300) t.same(decode(txResultsCodec, listed, 'results'), rs, `${n} results decode back`);
    t.same(resultsRootOfEncoded(items), resultsRoot(rs), `${n} results: same root`);
  }
  t.throws(() => encodeTxResultsList(new Array(MAX_BLOCK_TXS + 1).fill(new Uint8Array([0x93]))), RangeError, 'over the block limit: refused like the codec');
});
