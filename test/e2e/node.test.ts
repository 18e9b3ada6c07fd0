// A real node: in-process (RPC, proofs) and as OS processes (kill -9 mid-load, restart, nothing lost).
import '../../lib/polyfill.js';
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initHome } from '../../node/home.js';
import { createNode } from '../../node/node.js';
import { RpcClient } from '../../rpc/client.js';
import { testKey, addr, transferTx } from '../utils/chain.js';
import { toChecksumAddress } from '../../crypto/keys.js';
import { toHex } from '../../lib/hex.js';
import { verifyQueryAnswer } from '../../protocols/verify.js';
import { indexModules, defaultModules } from '../../protocols/registry.js';
import { Proc, freePort } from '../utils/proc.js';
import type { QueryAnswer } from '../../protocols/query.js';

const alice = testKey('e2e-alice');
const bob = testKey('e2e-bob');
const CHAIN = 'e2e-chain';


const tx = (nonce: number, amount = 1n) => transferTx(alice, addr(bob), amount, nonce, 0n, CHAIN);

t.test('in-process node: transfer over JSON-RPC, tx status, proven balance verified client-side', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await initHome({ home: dir, chainId: CHAIN, rpcPort: 0, fund: [`${toChecksumAddress(addr(alice))}=1000`] });
  const node = await createNode({ home: dir, logger: undefined });
  await node.start();
  t.teardown(() => node.stop());
  const rpc = new RpcClient(node.rpcUrl!);
  t.teardown(() => rpc.close());

  const { hash } = await rpc.sendTx(tx(0, 250n));
  const st = await rpc.waitForTx(hash, { timeoutMs: 20_000 });
  t.equal(st.status, 'committed');
  t.same(await rpc.getAccount(addr(bob)), { balance: '250', nonce: 0 });
  await t.rejects(rpc.sendTx(tx(0)), { name: 'RpcError', appCode: 'TX_BAD_NONCE' } as object as Error, 'replayed nonce');
  await t.rejects(rpc.sendTx(transferTx(alice, addr(bob), 1n, 1, 0n, 'other-chain')), { name: 'RpcError', appCode: 'TX_WRONG_CHAIN_ID' } as object as Error);

  const args = { address: toHex(addr(bob)) };
  const answer = (await rpc.query('bank/balance', args, { prove: true })) as QueryAnswer;
  const block = await rpc.getBlock(answer.height);
  const header = await verifyQueryAnswer({
    modules: indexModules(defaultModules()),
    validators: node.genesis.validators,
    chainId: CHAIN,
    headerHex: block.headerHex,
    certificateHex: block.certificateHex,
    path: 'bank/balance',
    args,
    answer,
  });
  t.equal(header.height, answer.height);
  t.same(answer.value, { balance: '250', nonce: 0 });

  const metrics = await (await fetch(node.metricsUrl!)).text();
  const height = Number(/^iotchain_height (\d+)/m.exec(metrics)?.[1]);
  t.ok(height >= 1, `iotchain_height ${height}`);
  t.match(metrics, /^iotchain_tx_commit_latency_seconds_count [1-9]/m, 'commit latency observed for the RPC tx');
  t.match(metrics, /^iotchain_txs_committed_total [1-9]/m);
  t.match(metrics, /iotchain_mempool_txs /);
});

t.test('node process: kill -9 under load, restart, every committed tx is still there', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  await initHome({ home: dir, chainId: CHAIN, rpcPort: port, fund: [`${toChecksumAddress(addr(alice))}=1000000`] });
  let proc = new Proc(['start', '--home', dir]);
  t.teardown(() => proc.stop('SIGKILL'));
  await proc.waitFor(/node started/);
  let rpc = new RpcClient(`http://127.0.0.1:${port}`);
  const sent: string[] = [];
  const send = async (from: number, to: number) => {
    try {
      for (let n = from; n < to; n++) sent.push((await rpc.sendTx(tx(n))).hash);
    } catch (e) {
      t.comment(`send ${sent.length} failed: ${e instanceof Error ? e.message : String(e)}`);
      t.comment(proc.out.slice(-3000));
      throw e;
    }
  };
  // the mempool takes nonces up to 256 ahead of the committed one: under a slow machine nothing may
  // be committed yet after 200 sends, so the rest waits for part of the load to commit
  await send(0, 200);
  await rpc.waitForTx(sent[50]!, { timeoutMs: 30_000 });
  await send(200, 300);
  // part of the load is committed, the rest pending: crash
  const statuses = await Promise.all(sent.map((h) => rpc.getTx(h)));
  const committed = statuses.filter((s) => s.status === 'committed').map((s) => s.hash);
  const head = await rpc.status();
  await rpc.close();
  await proc.stop('SIGKILL');
  t.ok(committed.length >= 51, `${committed.length} committed before the crash`);

  proc = new Proc(['start', '--home', dir]);
  await proc.waitFor(/node started/);
  rpc = new RpcClient(`http://127.0.0.1:${port}`);
  t.teardown(() => rpc.close());
  const after = await rpc.status();
  t.ok(after.height >= head.height, 'height did not go back');
  const block = await rpc.getBlock(head.height);
  t.equal(block.hash, head.headHash, 'the block at the old head is the same block');
  for (const h of committed) {
    const s = await rpc.getTx(h);
    if (s.status !== 'committed') t.fail(`${h} lost after restart: ${s.status}`);
  }
  const bal = await rpc.getAccount(addr(bob));
  t.ok(BigInt(bal.balance) >= BigInt(committed.length), 'balance reflects every committed transfer');
  // the chain goes on: resend what was lost from the mempool (it was never committed) and finish
  const acct = await rpc.getAccount(addr(alice));
  const last = await rpc.sendTx(tx(acct.nonce));
  t.equal((await rpc.waitForTx(last.hash, { timeoutMs: 30_000 })).status, 'committed', 'new txs commit after the restart');
  await proc.stop('SIGTERM');
  t.equal(proc.child.exitCode, 0, 'SIGTERM stops the node cleanly');
});
