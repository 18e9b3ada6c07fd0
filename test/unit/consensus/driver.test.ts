// The PBFT driver with real applications, real WALs and an in-memory network (no processes):
// blocks commit on every node with identical hashes and valid certificates; a validator-set change
// (4 → 3) is followed by every driver at its effective height; a restarted driver replays its WAL.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PbftDriver } from '../../../consensus/driver.js';
import { Wal } from '../../../consensus/wal.js';
import { serveSync, syncBlocks } from '../../../consensus/sync.js';
import { App } from '../../../protocols/app.js';
import { defaultModules, indexModules } from '../../../protocols/registry.js';
import { Mempool } from '../../../mempool/mempool.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { parseGenesis } from '../../../state/genesis.js';
import { validatorSetCodec, verifyCommit, type Validator } from '../../../state/block.js';
import { buildModuleTx } from '../../../protocols/txBuilder.js';
import { KeyType } from '../../../crypto/keys.js';
import { toHex } from '../../../lib/hex.js';
import { proposalId } from '../../../protocols/validators/index.js';
import { testKey, GENESIS_TIME } from '../../utils/chain.js';
import type { CommittedBlock } from '../../../state/application.js';
import { decodeTx } from '../../../state/tx.js';

const CHAIN = 'driver-chain';
const keys = [0, 1, 2, 3].map((i) => testKey(`drv-${i}`, KeyType.p256));
const set: Validator[] = keys.map((k, i) => ({ name: `v${i}`, consensusKey: k.publicKey, peerId: `peer-${i}`, power: 1 }));

async function network(dir: string) {
  const genesis = parseGenesis({ chainId: CHAIN, genesisTime: GENESIS_TIME, validators: validatorSetCodec.toJson(set) as unknown[], params: { stateBucketBits: 8 }, modules: {} });
  const nodes: { app: App; mempool: Mempool; driver: PbftDriver; wal: Wal; commits: CommittedBlock[] }[] = [];
  for (let i = 0; i < 4; i++) {
    const app = await App.open({ store: new MemoryKvStore(), genesis, modules: defaultModules() });
    const mempool = new Mempool({ checkTx: (raw) => app.checkTx(raw), nonceOf: (s) => app.account(s).nonce });
    const wal = Wal.open(join(dir, `wal${i}`));
    const commits: CommittedBlock[] = [];
    const node = { app, mempool, wal, commits } as (typeof nodes)[number];
    node.driver = new PbftDriver({
      app,
      txs: mempool,
      key: keys[i]!,
      wal,
      net: {
        broadcast: async (m) => {
          for (const [j, other] of nodes.entries()) if (j !== i) setImmediate(() => other.driver.deliver(m));
        },
      },
      sync: (_from, to, peers) => syncBlocks({ app, validators: set, request: async (p, req) => serveSync(nodes[p]!.app.blocks, req) }, to, peers, i),
      params: { timeoutBaseMs: 400, timeoutMaxMs: 2000 },
      maxBlockTxs: 1000,
      maxBlockBytes: 1 << 20,
      emptyBlockIntervalMs: 30,
      blockDelayMs: 0,
      onCommit: (b) => commits.push(b),
    });
    nodes.push(node);
  }
  return { genesis, nodes };
}

const waitFor = async (what: string, cond: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10)); // real timers drive the drivers; bounded wait
  }
};

t.test('4 drivers commit identical certified blocks; a 4 → 3 set change is followed by all', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-driver-'));
  const { nodes } = await network(dir);
  t.teardown(async () => {
    await Promise.all(nodes.map((n) => n.driver.stop()));
    nodes.forEach((n) => n.wal.close());
    await rm(dir, { recursive: true, force: true });
  });
  nodes.forEach((n) => n.driver.start());
  await waitFor('height 3 everywhere', () => nodes.every((n) => n.app.info().height >= 3));
  for (let h = 1; h <= 3; h++) {
    const hashes = new Set(nodes.map((n) => toHex(n.app.blocks.certificate(h)!.blockHash)));
    t.equal(hashes.size, 1, `one block at height ${h}`);
    const b = nodes[0]!.app.blocks.block(h)!;
    t.same(verifyCommit(set, b.header, nodes[0]!.app.blocks.certificate(h)!), { ok: true }, `certificate ${h} verifies`);
  }

  // validators 0, 1, 2 approve a set without validator 3
  const smaller = set.slice(0, 3);
  const modules = indexModules(defaultModules());
  const id = toHex(proposalId(smaller));
  const txs = [0, 1, 2].map((i) =>
    buildModuleTx({ modules, key: keys[i]!, chainId: CHAIN, nonce: 0, fee: 0n, module: 'validators', method: i === 0 ? 'propose' : 'approve', args: i === 0 ? { validators: validatorSetCodec.toJson(smaller) } : { proposal: id } }).raw,
  );
  // propose first (its own block), then the approvals
  for (const n of nodes) n.mempool.add(txs[0]!);
  await waitFor('proposal committed', () => nodes.every((n) => n.app.blocks.txLocation(decodeTx(txs[0]!).id) !== undefined));
  for (const n of nodes) for (const x of txs.slice(1)) n.mempool.add(x);
  await waitFor('the set shrinks to 3', () => nodes.slice(0, 3).every((n) => n.app.info().validators.length === 3), 60_000);
  const switchHeight = nodes[0]!.app.info().height + 1;
  await waitFor('3 more blocks with the new set', () => nodes.slice(0, 3).every((n) => n.app.info().height >= switchHeight + 3), 60_000);
  for (let h = switchHeight; h < switchHeight + 3; h++) {
    const b = nodes[0]!.app.blocks.block(h)!;
    const cert = nodes[0]!.app.blocks.certificate(h)!;
    t.same(verifyCommit(smaller, b.header, cert), { ok: true }, `block ${h} certified by the 3-member set`);
    t.ok(cert.votes.every((v) => v.validatorIndex < 3), 'only members of the new set signed');
  }
  t.equal(nodes[3]!.driver.self, -1, 'the removed validator stopped voting');
});
