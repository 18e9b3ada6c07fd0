// The mempool gauges are read from the mempool at scrape time (not set on every tx): a scrape shows
// the size at that moment, after adds and after a commit's removals.
import t from 'tap';
import { NodeMetrics, TX_ENTERED_MAX } from '../../../node/metrics.js';

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

t.test('p2p over-budget counter: the watched p2p layer\'s counts, by channel, at each scrape', async (t) => {
  const m = new NodeMetrics();
  const counts = { consensus: 0, sync: 0 };
  const scrape = async () => {
    const text = await m.registry.metrics();
    return ['consensus', 'sync'].map((c) => Number(new RegExp(`^iotchain_p2p_over_budget_total\\{channel="${c}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0));
  };
  t.same(await scrape(), [0, 0], 'nothing before a p2p layer is watched');
  m.watchP2p({ overBudget: () => ({ ...counts }) });
  t.match(await m.registry.metrics(), /^iotchain_p2p_over_budget_total\{channel="sync"\} 0$/m, 'both series shown at 0 once a p2p layer is watched');
  counts.consensus = 5;
  t.same(await scrape(), [5, 0]);
  counts.consensus = 7;
  counts.sync = 2;
  t.same(await scrape(), [7, 2], 'increments since the last scrape are added once');
  t.same(await scrape(), [7, 2], 'a scrape without news changes nothing');
});

t.test('commit latency: measured from a tx\'s first arrival; committed txs are forgotten; never-committed ones are bounded', async (t) => {
  const m = new NodeMetrics();
  const latency = async () => {
    const text = await m.registry.metrics();
    return [Number(/^iotchain_tx_commit_latency_seconds_count (\d+)$/m.exec(text)?.[1]), Number(/^iotchain_tx_commit_latency_seconds_sum ([\d.]+)$/m.exec(text)?.[1])];
  };
  m.txEntered('0xaa', 1000);
  m.txEntered('0xaa', 1500); // seen again (gossip after RPC): the first arrival counts
  m.txEntered('0xbb', 1200);
  m.committed(1, ['0xaa', '0xcc'], 3000, 2900); // 0xcc never entered here: no sample
  t.same(await latency(), [1, 2], 'one sample, 2 s after the first arrival');
  t.equal(m.pendingLatencies, 1, 'the committed tx is forgotten');
  m.committed(2, ['0xaa'], 4000, 3900);
  t.same(await latency(), [1, 2], 'a tx committed twice (a replay) adds no sample');
  for (let i = 0; i < 3 * TX_ENTERED_MAX; i++) m.txEntered(`0x${i.toString(16)}`, 5000);
  t.ok(m.pendingLatencies <= TX_ENTERED_MAX, `never-committed arrivals stay bounded (${m.pendingLatencies})`);
  m.txEntered('0xdd', 6000);
  m.committed(3, ['0xdd'], 6500, 6400);
  t.same(await latency(), [2, 2.5], 'a recent arrival still gets its sample');
});
