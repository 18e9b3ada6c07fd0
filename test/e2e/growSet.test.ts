// A 1-validator chain grows to 4 validators (issue 3, item 6 and node/node.ts's driver choice):
// the single validator proposes a 4-member set (its quorum is 1, so it passes at once); the three
// new members, whose homes hold the same 1-validator genesis, start as followers right away; two
// heights later the single validator's driver stops before certifying a block alone and the SAME
// process hands over to PBFT (p2p, WAL, the new set) — no restart; the new members connect, sync
// the chain from it and start voting; from then on blocks carry 3-of-4 certificates and a transfer
// commits. A restart after the switch runs PBFT from the start (node/node.ts). Processes on
// loopback, stopped by the test.
import '../../lib/polyfill.js';
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNetwork } from '../../node/home.js';
import { paths, writeJson } from '../../node/config.js';
import { RpcClient } from '../../rpc/client.js';
import { Proc, freePortBlock, runCli, until } from '../utils/proc.js';
import { testKey, addr, transferTx } from '../utils/chain.js';
import { toChecksumAddress } from '../../crypto/keys.js';

const CHAIN = 'grow-e2e';
const alice = testKey('grow-alice');
const bob = testKey('grow-bob');

interface GenesisJson {
  validators: { name: string; consensusKey: string; peerId: string; power: number }[];
}

t.test('a 1-validator chain approves 3 more members, hands over to PBFT without a restart, and the new members join by block sync', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-grow-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const base = await freePortBlock(8);
  // four homes with keys and static peers; then every home gets a genesis naming node0 alone
  const { homes } = await initNetwork({ dir, validators: 4, chainId: CHAIN, rpcPort: base, p2pPort: base + 4, fund: [`${toChecksumAddress(addr(alice))}=1000000`] });
  const full = JSON.parse(await readFile(paths(homes[0]!).genesis, 'utf8')) as GenesisJson;
  const members = full.validators;
  const single = { ...full, validators: [members[0]!] };
  for (const h of homes) await writeJson(paths(h).genesis, single);

  const procs: Proc[] = [];
  const start = (i: number) => {
    const p = new Proc(['start', '--home', homes[i]!]);
    procs.push(p);
    return p;
  };
  const rpcs: RpcClient[] = [];
  const rpcOf = (i: number) => {
    const r = new RpcClient(`http://127.0.0.1:${base + i}`);
    rpcs.push(r);
    return r;
  };
  t.teardown(async () => {
    await Promise.allSettled(rpcs.map((r) => r.close()));
    await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
  });

  const first = start(0);
  await first.waitFor(/node started/);
  const rpc0 = rpcOf(0);
  await until('a first block', async () => ((await rpc0.status()).height >= 1 ? true : undefined));

  // the single validator proposes the 4-member set with its consensus key (the operator's path: the CLI)
  const proposed = await runCli(['tx', 'validators', 'propose', '--args', JSON.stringify({ validators: members }), '--key', paths(homes[0]!).consensusKey, '--rpc', `http://127.0.0.1:${base}`, '--wait', '--json']);
  t.equal(proposed.code, 0, `propose committed: ${proposed.stdout}${proposed.stderr}`);
  const current = (await rpc0.query('validators/current')).value as { pending: { effectiveHeight: number } | null };
  const effective = current.pending?.effectiveHeight;
  t.ok(effective !== undefined && effective > 0, `the new set is pending, in force from height ${effective}`);

  // the new members start now, as followers (node 0 has no p2p yet: they redial until it has)
  const joiners = [1, 2, 3].map(start);
  for (const p of joiners) await p.waitFor(/node started \(following: not in the validator set\)/);
  // once the new set is in force, node 0 hands over to PBFT in the same process
  await first.waitFor(/single-validator consensus hands over to PBFT/, 60_000);
  await first.waitFor(/PBFT started/, 30_000);
  t.ok(first.running, 'the single validator keeps running (no exit, no restart)');
  t.notMatch(first.out, /consensus halted/, 'and does not halt');
  const halted = effective! - 1;
  const all = [0, 1, 2, 3].map(rpcOf);
  for (const p of joiners) await p.waitFor(/now a validator; it starts voting/, 90_000);

  // the chain moves past the switch with 3-of-4 certificates, and every node has the same blocks
  const target = effective! + 3;
  for (const r of all) await until(`height ${target}`, async () => ((await r.status()).height >= target ? true : undefined));
  const hashes = await Promise.all(all.map(async (r) => (await r.getBlock(target)).hash));
  t.equal(new Set(hashes).size, 1, `one block at height ${target} on all four`);
  for (const h of [halted, effective!, target]) {
    const votes = ((await all[1]!.getBlock(h)).certificate as { votes: unknown[] }).votes.length;
    t.ok(h < effective! ? votes === 1 : votes >= 3, `height ${h}: ${votes} signature(s) in its certificate`);
  }
  const sent = await all[2]!.sendTx(transferTx(alice, addr(bob), 5n, 0, 0n, CHAIN));
  t.equal((await all[3]!.waitForTx(sent.hash, { timeoutMs: 60_000 })).status, 'committed', 'a transfer commits under PBFT');
  // node 3 committing the block does not mean node 1 has (3 of 4 certify it): wait for node 1 too
  t.equal((await all[1]!.waitForTx(sent.hash, { timeoutMs: 60_000 })).status, 'committed', 'node 1 has the block too');
  t.equal((await all[1]!.getAccount(addr(bob))).balance, '5');

  // a restart of node 0 after the switch runs PBFT from the start and rejoins
  await first.stop('SIGTERM');
  const again = start(0);
  await again.waitFor(/node started/);
  t.notMatch(again.out, /single-validator/, 'no single-validator driver after the switch');
  const h = (await all[1]!.status()).height + 2;
  await until(`node 0 back at height ${h}`, async () => ((await all[0]!.status()).height >= h ? true : undefined), 60_000);
  t.equal((await all[0]!.getBlock(h)).hash, (await all[1]!.getBlock(h)).hash, 'and agrees with node 1');
});
