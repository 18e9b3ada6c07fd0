// `iotchain devnet --validators N` for the sizes issue 3 names besides the default 4 (covered by
// cli.test.ts): N = 1, 7, 10, 16 validator processes on loopback. Each devnet must start, commit a
// transfer submitted to its last node, agree on block hashes across every node, and stop every
// process on Ctrl-C (SIGINT).
import t from 'tap';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Proc, runCli, freePortBlock, isAlive } from '../utils/proc.js';
import { RpcClient } from '../../rpc/client.js';

const SIZES = [1, 7, 10, 16];

for (const n of SIZES) {
  t.test(`devnet --validators ${n}: starts, commits a tx, every node agrees, SIGINT stops all`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), `iotchain-devnet${n}-`));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const base = await freePortBlock(3 * n);
    const devnet = new Proc(['devnet', '--dir', join(dir, 'net'), '--validators', String(n), '--rpc-port', String(base), '--p2p-port', String(base + n), '--metrics-port', String(base + 2 * n)]);
    t.teardown(() => devnet.stop('SIGKILL'));
    await devnet.waitFor(/devnet running/, 240_000);
    const info = JSON.parse(await readFile(join(dir, 'net', 'devnet.json'), 'utf8')) as {
      nodes: { name: string; rpc: string; pid: number }[];
      faucet: { keyFile: string; address: string };
    };
    t.equal(info.nodes.length, n, 'devnet.json lists every node');
    const clients = info.nodes.map((x) => new RpcClient(x.rpc));
    t.teardown(() => Promise.all(clients.map((c) => c.close())));

    // a transfer through the last node, committed (its --wait needs a quorum of the n processes)
    const last = info.nodes[n - 1]!;
    const to = '0x00000000000000000000000000000000000000aa';
    const tr = await runCli(['transfer', '--key', info.faucet.keyFile, '--insecure', '--to', to, '--amount', '7', '--rpc', last.rpc, '--wait', '--json', '--timeout-ms', '180000'], 240_000);
    t.equal(tr.code, 0, tr.stderr + tr.stdout);
    const height = (JSON.parse(tr.stdout) as { height: number }).height;
    t.ok(height >= 1, `committed at height ${height}`);

    // every node reaches that height and has the same block there
    const deadline = Date.now() + 180_000;
    let hashes: (string | undefined)[] = [];
    for (;;) {
      hashes = await Promise.all(clients.map((c) => c.getBlock(height).then((b) => b?.hash, () => undefined)));
      if (hashes.every((h) => h !== undefined) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    t.equal(new Set(hashes).size, 1, `all ${n} nodes have block ${height} with one hash`);
    t.notOk(hashes.includes(undefined), 'no node is missing it');
    const bal = await clients[0]!.query('bank/balance', { address: to });
    t.match(bal, { value: { balance: '7' } }, 'node 0 sees the transfer sent to the last node');

    await devnet.stop('SIGINT');
    t.equal(devnet.child.exitCode, 0, 'devnet exits 0 on Ctrl-C');
    t.same(info.nodes.filter((x) => isAlive(x.pid)).map((x) => x.name), [], 'every validator process is gone');
  });
}
