// The README's walk-through as real processes: devnet, keys, transfer, query --prove, Ctrl-C.
import t from 'tap';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Proc, runCli, freePortBlock, isAlive } from '../utils/proc.js';


t.test('devnet + CLI: keys, transfer --wait, query --prove, CA set by validator approval, status, block; SIGINT stops every process', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const base = await freePortBlock(12);
  const port = base;
  // the README's main command: a 4-validator devnet (ports moved so tests never collide)
  const devnet = new Proc(['devnet', '--dir', join(dir, 'net'), '--rpc-port', String(port), '--p2p-port', String(base + 4), '--metrics-port', String(base + 8)]);
  t.teardown(() => devnet.stop('SIGKILL'));
  await devnet.waitFor(/devnet running/);
  const info = JSON.parse(await readFile(join(dir, 'net', 'devnet.json'), 'utf8'));
  t.equal(info.nodes.length, 4);
  for (const n of info.nodes) t.type(n.pid, 'number');
  const rpc = info.nodes[0].rpc as string;
  t.equal(rpc, `http://127.0.0.1:${port}`);
  await devnet.waitFor(/("validator":3.*node started|node started.*"validator":3)/, 120_000);

  const keys = await runCli(['keys', 'new', '--out', join(dir, 'keys'), '--insecure', '--json']);
  t.equal(keys.code, 0, keys.stderr);
  const k = JSON.parse(keys.stdout);
  const to = (k.online?.address ?? k.online) as string;
  t.match(to, /^0x[0-9a-fA-F]{40}$/);

  const tr = await runCli(['transfer', '--key', info.faucet.keyFile, '--insecure', '--to', to, '--amount', '12345', '--rpc', rpc, '--wait', '--json']);
  t.equal(tr.code, 0, tr.stderr + tr.stdout);
  const trOut = JSON.parse(tr.stdout);
  t.equal(trOut.status, 'committed');

  const q = await runCli(['query', 'bank', 'balance', '--args', JSON.stringify({ address: to }), '--rpc', rpc, '--prove', '--genesis', join(info.nodes[0].home, 'genesis.json'), '--json']);
  t.equal(q.code, 0, q.stderr + q.stdout);
  const qOut = JSON.parse(q.stdout);
  t.equal(qOut.verified, true);
  t.same(qOut.value, { balance: '12345', nonce: 0 });

  const overdraft = await runCli(['transfer', '--key', join(dir, 'keys', 'online.json'), '--insecure', '--to', info.faucet.address, '--amount', '999999', '--rpc', rpc, '--wait', '--json']);
  t.not(overdraft.code, 0, 'a failed transfer exits non-zero');

  // the CA set changes by 2f+1 validator approval: 3 of the 4 devnet validators, each with its consensus key file
  const offline = (k.offline?.address ?? k.offline) as string;
  const gov = (i: number, method: string, args: unknown) =>
    runCli(['tx', 'validators', method, '--args', JSON.stringify(args), '--key', join(info.nodes[i].home, 'consensus_key.json'), '--insecure', '--rpc', rpc, '--wait', '--json']);
  const proposed = await gov(0, 'proposeAddCa', { ca: offline });
  t.equal(proposed.code, 0, proposed.stderr + proposed.stdout);
  const idQuery = await runCli(['query', 'identity', 'isCa', '--args', JSON.stringify({ addr: offline }), '--rpc', rpc, '--json']);
  t.match(JSON.parse(idQuery.stdout), { value: { registered: false } }, 'one approval of four: not a CA yet');
  for (const i of [1, 2]) {
    const again = await gov(i, 'proposeAddCa', { ca: offline });
    t.equal(again.code, 0, `validator ${i} approves: ${again.stderr}${again.stdout}`);
  }
  const isCa = await runCli(['query', 'identity', 'isCa', '--args', JSON.stringify({ addr: offline }), '--rpc', rpc, '--prove', '--genesis', join(info.nodes[0].home, 'genesis.json'), '--json']);
  t.equal(isCa.code, 0, isCa.stderr + isCa.stdout);
  t.match(JSON.parse(isCa.stdout), { verified: true, value: { registered: true } }, 'three of four: a CA, proven');
  const outsider = await runCli(['tx', 'validators', 'proposeRemoveCa', '--args', JSON.stringify({ ca: offline }), '--key', join(dir, 'keys', 'online.json'), '--insecure', '--rpc', rpc, '--wait', '--json']);
  t.not(outsider.code, 0, 'a non-validator key cannot propose');
  t.match(outsider.stdout, /VALIDATORS_SENDER_NOT_VALIDATOR/);

  const st = await runCli(['status', '--rpc', rpc, '--json']);
  t.equal(st.code, 0);
  const height = JSON.parse(st.stdout).height as number;
  t.ok(height >= 1);
  const blk = await runCli(['block', String(height), '--rpc', rpc, '--json']);
  t.equal(blk.code, 0, blk.stderr);

  await devnet.stop('SIGINT');
  t.equal(devnet.child.exitCode, 0, 'devnet exits 0 on Ctrl-C');
  for (const n of info.nodes) t.notOk(isAlive(n.pid as number), `${n.name} is gone`);
  t.ok(existsSync(join(dir, 'net', 'node0', 'data')), 'state kept on disk');
});
