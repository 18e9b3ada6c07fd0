// The node's RPC backend after a commit: newBlock subscribers get the tx ids (computed once, as hex,
// by the app), tx subscribers get their tx's status; with no tx subscriber the per-tx lookups are
// skipped, so the subscriber count must stay right when an unsubscribe is called twice.
import t from 'tap';
import { NodeBackend, QUERY_CONCURRENCY } from '../../../node/backend.js';
import { toChecksumAddress } from '../../../crypto/keys.js';
import { EvidenceStore } from '../../../node/evidence.js';
import { Mempool } from '../../../mempool/mempool.js';
import { decodeTx } from '../../../state/tx.js';
import { testChain, testKey, addr, transferTx } from '../../utils/chain.js';
import type { TxStatusJson, NewBlockEvent } from '../../../rpc/backend.js';

const alice = testKey('backend-alice');
const bob = testKey('backend-bob');

t.test('newBlock and tx subscribers after a commit; a double unsubscribe does not silence the others', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]] });
  const mempool = new Mempool({ checkTx: (raw) => c.app.checkTx(raw), nonceOf: (s) => c.app.account(s).nonce });
  const backend = new NodeBackend(c.app, mempool, () => undefined, new EvidenceStore(c.store));
  const blocks: NewBlockEvent[] = [];
  backend.onNewBlock((ev) => blocks.push(ev));

  const tx0 = transferTx(alice, addr(bob), 5n, 0, 0n);
  const tx1 = transferTx(alice, addr(bob), 6n, 1, 0n);
  const seen: TxStatusJson[] = [];
  const off0 = backend.onTx(decodeTx(tx0).id, (s) => seen.push(s));
  off0();
  off0(); // twice: must not count a second unsubscribe
  backend.onTx(decodeTx(tx1).id, (s) => seen.push(s));

  backend.committed(await c.block([tx0]));
  backend.committed(await c.block([tx1]));
  t.same(blocks.map((b) => b.txs), [[decodeTx(tx0).idHex], [decodeTx(tx1).idHex]], 'newBlock carries the hex ids');
  t.equal(seen.length, 1, 'only the live subscription fired');
  t.match(seen[0], { hash: decodeTx(tx1).idHex, status: 'committed', height: 2, index: 0 });
});

t.test('chain_getBlock: the block part is reused, the certificate is read each time; tx_get reads results once per block', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]] });
  const mempool = new Mempool({ checkTx: (raw) => c.app.checkTx(raw), nonceOf: (s) => c.app.account(s).nonce });
  const backend = new NodeBackend(c.app, mempool, () => undefined, new EvidenceStore(c.store));
  const txs = [0, 1, 2].map((n) => transferTx(alice, addr(bob), 1n, n, 0n));
  await c.block(txs);
  const first = await backend.getBlock(1);
  const blockReads = { n: 0 };
  const resultReads = { n: 0 };
  const block = c.app.blocks.block.bind(c.app.blocks);
  const results = c.app.blocks.results.bind(c.app.blocks);
  c.app.blocks.block = (h) => (blockReads.n++, block(h));
  c.app.blocks.results = (h) => (resultReads.n++, results(h));
  const again = await backend.getBlock(1);
  t.same(again, first, 'the same answer');
  t.equal(blockReads.n, 0, 'without decoding the block again');
  t.same(first?.txs, txs.map((x) => decodeTx(x).idHex));
  // a fuller certificate replaces the stored one: the next answer has it
  const cert = c.app.blocks.certificate(1)!;
  await c.store.batch(c.app.blocks.certificateOps({ ...cert, view: cert.view + 1 }));
  t.equal(((await backend.getBlock(1))?.certificate as { view: number }).view, cert.view + 1, 'the certificate is not cached');
  for (const x of txs) t.match(await backend.getTx(decodeTx(x).id), { status: 'committed', height: 1 });
  t.equal(resultReads.n, 1, 'three lookups in one block: its results decoded once');
  t.equal(await backend.getBlock(99), undefined);
});

t.test('queries: at most QUERY_CONCURRENCY in the application queue at once, the rest wait outside it, all answered', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]] });
  const mempool = new Mempool({ checkTx: (raw) => c.app.checkTx(raw), nonceOf: (s) => c.app.account(s).nonce });
  const backend = new NodeBackend(c.app, mempool, () => undefined, new EvidenceStore(c.store));
  let inQueue = 0;
  let most = 0;
  const withCommitted = c.app.withCommitted.bind(c.app);
  c.app.withCommitted = <T>(fn: () => Promise<T>) => {
    most = Math.max(most, ++inQueue);
    return withCommitted(fn).finally(() => inQueue--);
  };
  const asked = Array.from({ length: 50 }, () => backend.query('bank/balance', { address: toChecksumAddress(addr(alice)) }, true));
  t.equal(backend.queriesWaiting, 50 - QUERY_CONCURRENCY, 'the rest wait outside the queue consensus commits through');
  const answers = await Promise.all(asked);
  t.equal(most, QUERY_CONCURRENCY, `never more than ${QUERY_CONCURRENCY} in it`);
  t.ok(answers.every((a) => (a.value as { balance: string }).balance === '1000'), 'every query answered');
});
