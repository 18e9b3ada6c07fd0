// Four validator processes on loopback: crash faults and recovery (issue 3, item 9).
// kill -9 one → the chain keeps committing; restart it → it catches up and agrees on every block
// hash; stop two → the chain halts without forking; restart them → it resumes; no committed tx lost.
import '../../lib/polyfill.js';
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNetwork } from '../../node/home.js';
import { RpcClient } from '../../rpc/client.js';
import { Proc, freePortBlock, until } from '../utils/proc.js';
import { testKey, addr, transferTx } from '../utils/chain.js';
import { toChecksumAddress } from '../../crypto/keys.js';

const CHAIN = 'pbft-e2e';
const alice = testKey('pbft-alice');
const bob = testKey('pbft-bob');

t.test('4 validators survive crashes, catch up, halt without forking below quorum', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-pbft-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const base = await freePortBlock(8);
  const { homes } = await initNetwork({ dir, validators: 4, chainId: CHAIN, rpcPort: base, p2pPort: base + 4, fund: [`${toChecksumAddress(addr(alice))}=1000000`] });
  const procs: (Proc | undefined)[] = [];
  const startNode = (i: number) => (procs[i] = new Proc(['start', '--home', homes[i]!]));
  t.teardown(async () => {
    await Promise.all(procs.map((p) => p?.stop('SIGKILL')));
  });
  const rpc = homes.map((_, i) => new RpcClient(`http://127.0.0.1:${base + i}`, { timeoutMs: 5000 }));
  t.teardown(() => Promise.all(rpc.map((r) => r.close())));
  for (let i = 0; i < 4; i++) startNode(i);
  await Promise.all(procs.map((p) => p!.waitFor(/node started/, 120_000)));

  const height = (i: number) => rpc[i]!.status().then((s) => s.height);
  await until('height 3 on node 0', async () => ((await height(0)) >= 3 ? true : undefined));

  let nonce = 0;
  const committed: string[] = [];
  const sendAndWait = async (via: number) => {
    const { hash } = await rpc[via]!.sendTx(transferTx(alice, addr(bob), 1n, nonce++, 0n, CHAIN));
    const st = await rpc[via]!.waitForTx(hash, { timeoutMs: 60_000 });
    if (st.status !== 'committed') throw new Error(`tx ${hash}: ${st.status}`);
    committed.push(hash);
  };
  for (let k = 0; k < 5; k++) await sendAndWait(k % 4);

  // kill -9 validator 3: the others keep committing (through view changes when it is primary)
  await procs[3]!.stop('SIGKILL');
  const h0 = await height(0);
  for (let k = 0; k < 5; k++) await sendAndWait(k % 3);
  await until('4 more blocks with one validator down', async () => ((await height(0)) >= h0 + 4 ? true : undefined));

  // restart it: it catches up by block sync and agrees on every block hash
  startNode(3);
  await procs[3]!.waitFor(/node started/, 120_000);
  const target = await height(0);
  await until('validator 3 catches up', async () => ((await height(3)) >= target ? true : undefined));
  for (let h = 1; h <= target; h++) {
    const hashes = await Promise.all([0, 3].map((i) => rpc[i]!.getBlock(h).then((b) => b.hash)));
    if (hashes[0] !== hashes[1]) t.fail(`block ${h} differs after catch-up`);
  }
  t.pass(`validator 3 agrees on blocks 1..${target}`);

  // stop two: no quorum, the chain halts (and does not fork)
  await Promise.all([procs[2]!.stop('SIGKILL'), procs[3]!.stop('SIGKILL')]);
  const stalled = await height(0);
  const pending = await rpc[0]!.sendTx(transferTx(alice, addr(bob), 1n, nonce++, 0n, CHAIN));
  await new Promise((r) => setTimeout(r, 4000)); // observation window: nothing may commit without a quorum
  t.ok((await height(0)) <= stalled + 1, 'no progress without a quorum (at most the block already being decided)');
  const s1 = await height(1);
  const h0now = await height(0);
  for (let h = 1; h <= Math.min(s1, h0now); h++) {
    const [a, b] = await Promise.all([0, 1].map((i) => rpc[i]!.getBlock(h).then((x) => x.hash)));
    if (a !== b) t.fail(`fork at height ${h}`);
  }

  // restart them: the chain resumes and the pending tx commits
  startNode(2);
  startNode(3);
  await Promise.all([procs[2]!.waitFor(/node started/, 120_000), procs[3]!.waitFor(/node started/, 120_000)]);
  const st = await rpc[0]!.waitForTx(pending.hash, { timeoutMs: 120_000 });
  t.equal(st.status, 'committed', 'the chain resumed');
  committed.push(pending.hash);

  // no committed tx lost, and all four agree on the head's history
  const finalH = await until('all nodes reach the same height', async () => {
    const hs = await Promise.all([0, 1, 2, 3].map(height));
    const min = Math.min(...hs);
    return min >= (await height(0)) - 1 ? min : undefined;
  });
  // every node ends up with every committed tx (a node may still be syncing the last block)
  await until('every node has every committed tx', async () => {
    for (const h of committed) for (let i = 0; i < 4; i++) if ((await rpc[i]!.getTx(h)).status !== 'committed') return undefined;
    return true;
  });
  t.pass(`${committed.length} committed txs present on all 4 nodes`);
  const ref = await rpc[0]!.getBlock(finalH);
  for (let i = 1; i < 4; i++) t.equal((await rpc[i]!.getBlock(finalH)).hash, ref.hash, `node ${i} agrees at height ${finalH}`);
  t.equal((await rpc[0]!.getAccount(addr(bob))).balance, String(committed.length));
});
