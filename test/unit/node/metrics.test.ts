// The mempool gauges are read from the mempool at scrape time (not set on every tx): a scrape shows
// the size at that moment, after adds and after a commit's removals.
import t from 'tap';
import { NodeMetrics } from '../../../node/metrics.js';

t.test('mempool gauges report the watched mempool at each scrape', async (t) => {
  const m = new NodeMetrics();
  const pool = { size: 0, sizeBytes: 0 };
  const scrape = async () => {
    const text = await m.registry.metrics();
    return [Number(/^iotchain_mempool_txs (\d+)$/m.exec(text)?.[1]), Number(/^iotchain_mempool_bytes (\d+)$/m.exec(text)?.[1])];
  };
  m.watchMempool(pool);
  t.same(await scrape(), [0, 0]);
  pool.size = 3;
  pool.sizeBytes = 450;
  t.same(await scrape(), [3, 450], 'adds show at the next scrape');
  pool.size = 1;
  pool.sizeBytes = 150;
  t.same(await scrape(), [1, 150], 'and removals');
});
