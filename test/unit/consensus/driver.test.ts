// The PBFT driver with real applications, real WALs and an in-memory network (no processes):
// blocks commit on every node with identical hashes and valid certificates; a validator-set change
// (4 → 3) is followed by every driver at its effective height; a validator added later (4 → 5)
// starts from genesis as a follower, catches up by block sync and votes from the switch on.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PbftDriver, type DriverOptions } from '../../../consensus/driver.js';
import { Wal } from '../../../consensus/wal.js';
import { serveSync, syncBlocks } from '../../../consensus/sync.js';
import { App } from '../../../protocols/app.js';
import { defaultModules, indexModules } from '../../../protocols/registry.js';
import { Mempool } from '../../../mempool/mempool.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { parseGenesis } from '../../../state/genesis.js';
import { validatorSetCodec, verifyCommit, encodeBlock, blockHash, type Validator, type BlockHeader } from '../../../state/block.js';
import { buildModuleTx } from '../../../protocols/txBuilder.js';
import { KeyType } from '../../../crypto/keys.js';
import { toHex } from '../../../lib/hex.js';
import { proposalId } from '../../../protocols/validators/index.js';
import { testKey, GENESIS_TIME } from '../../utils/chain.js';
import type { CommittedBlock } from '../../../state/application.js';
import { decodeTx } from '../../../state/tx.js';
import { encodeMessage, signMessage } from '../../../consensus/messages.js';
import type { ConsensusMessage } from '../../../consensus/core/index.js';

const CHAIN = 'driver-chain';
const keys = [0, 1, 2, 3, 4].map((i) => testKey(`drv-${i}`, KeyType.p256));
const member = (i: number): Validator => ({ name: `v${i}`, consensusKey: keys[i]!.publicKey, peerId: `peer-${i}`, power: 1 });
/** The genesis set: validators 0..3 (key 4 joins later in one test). */
const set: Validator[] = [0, 1, 2, 3].map(member);

/** `count` drivers over one genesis (set of 4); driver 4, when present, is not in it. */
async function network(dir: string, count = 4) {
  const genesis = parseGenesis({ chainId: CHAIN, genesisTime: GENESIS_TIME, validators: validatorSetCodec.toJson(set) as unknown[], params: { stateBucketBits: 8 }, modules: {} });
  const nodes: { app: App; mempool: Mempool; driver: PbftDriver; wal: Wal; commits: CommittedBlock[]; sent: number; walAppends: number; walSyncs: number; sentUnsynced: number }[] = [];
  for (let i = 0; i < count; i++) {
    const app = await App.open({ store: new MemoryKvStore(), genesis, modules: defaultModules() });
    const mempool = new Mempool({ checkTx: (raw) => app.checkTx(raw), nonceOf: (s) => app.account(s).nonce });
    const wal = Wal.open(join(dir, `wal${i}`));
    const commits: CommittedBlock[] = [];
    const node = { app, mempool, wal, commits, sent: 0, walAppends: 0, walSyncs: 0, sentUnsynced: 0 } as (typeof nodes)[number];
    // count WAL records and fsyncs: records written together share one fsync
    const append = wal.append.bind(wal);
    const sync = wal.sync.bind(wal);
    wal.append = (r, o) => {
      node.walAppends++;
      append(r, o);
    };
    wal.sync = () => {
      if (wal.pendingSync) node.walSyncs++;
      sync();
    };
    node.driver = new PbftDriver({
      app,
      txs: mempool,
      key: keys[i]!,
      wal,
      net: {
        broadcast: async (m) => {
          node.sent++;
          if (wal.pendingSync) node.sentUnsynced++; // a message may never leave before the WAL records before it are durable
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
  t.equal(nodes.reduce((a, n) => a + n.sentUnsynced, 0), 0, 'no message was sent while a WAL record before it was not yet fsynced');
  for (const [i, n] of nodes.entries()) t.ok(n.walSyncs < n.walAppends, `node ${i}: ${n.walAppends} WAL records in ${n.walSyncs} fsyncs (a prepared certificate shares the Commit's)`);

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

t.test('a validator added later starts as a follower, syncs from genesis and votes once the set names it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-driver-join-'));
  const { nodes } = await network(dir, 5);
  t.teardown(async () => {
    await Promise.all(nodes.map((n) => n.driver.stop()));
    nodes.forEach((n) => n.wal.close());
    await rm(dir, { recursive: true, force: true });
  });
  const newcomer = nodes[4]!;
  t.equal(newcomer.driver.isFollowing, true, 'key 4 is not in the genesis set: it follows');
  nodes.slice(0, 4).forEach((n) => n.driver.start());
  await waitFor('height 3 on the four', () => nodes.slice(0, 4).every((n) => n.app.info().height >= 3));
  newcomer.driver.start();
  await waitFor('the follower catches up by sync', () => newcomer.app.info().height >= 3);
  t.equal(newcomer.commits.length, 0, 'it committed nothing through consensus');
  t.equal(newcomer.sent, 0, 'and sent no consensus message');

  const bigger = [0, 1, 2, 3, 4].map(member);
  const modules = indexModules(defaultModules());
  const id = toHex(proposalId(bigger));
  const propose = buildModuleTx({ modules, key: keys[0]!, chainId: CHAIN, nonce: 0, fee: 0n, module: 'validators', method: 'propose', args: { validators: validatorSetCodec.toJson(bigger) } }).raw;
  for (const n of nodes.slice(0, 4)) n.mempool.add(propose);
  await waitFor('proposal committed', () => nodes[0]!.app.blocks.txLocation(decodeTx(propose).id) !== undefined);
  const approvals = [1, 2].map((i) => buildModuleTx({ modules, key: keys[i]!, chainId: CHAIN, nonce: 0, fee: 0n, module: 'validators', method: 'approve', args: { proposal: id } }).raw);
  for (const n of nodes.slice(0, 4)) for (const x of approvals) n.mempool.add(x);
  await waitFor('the set grows to 5', () => nodes[0]!.app.info().validators.length === 5, 60_000);
  const switchHeight = nodes[0]!.app.info().height + 1;
  await waitFor('the newcomer joins and votes', () => newcomer.driver.isFollowing === false && newcomer.commits.length > 0, 60_000);
  await waitFor('3 blocks with the 5-member set', () => nodes.every((n) => n.app.info().height >= switchHeight + 3), 60_000);
  for (let h = switchHeight; h < switchHeight + 3; h++) {
    const b = nodes[0]!.app.blocks.block(h)!;
    const cert = nodes[0]!.app.blocks.certificate(h)!;
    t.same(verifyCommit(bigger, b.header, cert), { ok: true }, `block ${h} certified by the 5-member set`);
    t.equal(toHex(newcomer.app.blocks.certificate(h)!.blockHash), toHex(cert.blockHash), `the newcomer has the same block ${h}`);
  }
  t.equal(newcomer.driver.self, 4);
  t.ok(newcomer.commits.length > 0, 'the newcomer commits through consensus now');
  t.ok(newcomer.sent > 0, 'and votes (its signed Prepare/Commit messages go out)');
});

/**
 * A started driver (validator 3) over a stand-in app at `height` and stand-in mempool, WAL and
 * timers: for what the driver does with delivered bytes. `Driver` lets a test pass a mocked import.
 */
async function standIn(o: { height: number; penalize?: DriverOptions['penalize']; Driver?: typeof PbftDriver }): Promise<PbftDriver> {
  const driver = new (o.Driver ?? PbftDriver)({
    app: { info: () => ({ chainId: CHAIN, height: o.height, validators: set }) } as unknown as App,
    txs: { reap: () => [], update() {}, drop() {} } as unknown as Mempool,
    key: keys[3]!,
    wal: { records: [], append() {}, sync() {}, reset() {} } as unknown as Wal,
    net: { broadcast: async () => {} },
    maxBlockTxs: 10,
    maxBlockBytes: 1000,
    timers: { set: () => 0, clear: () => {} },
    ...(o.penalize ? { penalize: o.penalize } : {}),
  });
  driver.start();
  await new Promise((r) => setImmediate(r));
  return driver;
}

t.test('inputs enqueued in the same tick as one that yields no output are all taken (none waits for a later input)', async (t) => {
  // a driver over a stand-in app at height 0: PrePrepares for height 2 produce no output (the core
  // buffers them), so drain finishes without awaiting; the next frames of the same network chunk
  // arrive before its `finally` has run
  const driver = await standIn({ height: 0 });
  const queue = (driver as unknown as { queue: unknown[] }).queue;
  for (let i = 0; i < 3; i++) {
    const blockHash = new Uint8Array(32).fill(i + 1);
    driver.deliver(encodeMessage(signMessage(CHAIN, keys[0]!, { type: 'PrePrepare', from: 0, height: 2, view: 0, blockHash, payload: new Uint8Array(100), signature: new Uint8Array(64) })));
  }
  await new Promise((r) => setImmediate(r));
  t.equal(queue.length, 0, 'all three reached the core');
  await driver.stop();
});

t.test('penalties go to the peer that delivered a message, never to the validator it names (no framing)', async (t) => {
  const penalties: [unknown, string][] = [];
  const driver = await standIn({ height: 0, penalize: (culprit, reason) => penalties.push([culprit, reason]) });
  const prePrepare = (from: number, blockHash: Uint8Array) => ({ type: 'PrePrepare' as const, from, height: 1, view: 0, blockHash, payload: new Uint8Array(100), signature: new Uint8Array(64) });
  // 1. garbage claiming to be from validator 1, with a signature that is not its own
  const forged = signMessage(CHAIN, keys[2]!, prePrepare(1, new Uint8Array(32).fill(1)));
  driver.deliver(encodeMessage({ ...forged, from: 1 }), 'peer-evil');
  // 2. bytes that do not decode
  driver.deliver(new Uint8Array([1, 2, 3]), 'peer-evil');
  // 3. validator 2's own signed PrePrepare at a height where validator 1 is the primary, relayed by peer-relay
  driver.deliver(encodeMessage(signMessage(CHAIN, keys[2]!, prePrepare(2, new Uint8Array(32).fill(2)))), 'peer-relay');
  await new Promise((r) => setImmediate(r));
  t.same(
    penalties.map(([c]) => c),
    [{ peer: 'peer-evil' }, { peer: 'peer-evil' }, { peer: 'peer-relay' }],
    'each penalty names the delivering peer',
  );
  t.match(penalties[2]![1], /notPrimary/);
  t.notOk(penalties.some(([c]) => 'validator' in (c as object)), 'no validator was charged for what a peer delivered');
  await driver.stop();
});

t.test('signatures are verified after the cheap checks, and once per distinct message', async (t) => {
  // count the signature checks the driver's message verification makes (crypto/sign.ts mocked for this import)
  const sign = await import('../../../crypto/sign.js');
  let verifies = 0;
  const { PbftDriver: Driver } = await t.mockImport<typeof import('../../../consensus/driver.js')>('../../../consensus/driver.js', {
    '../../../crypto/sign.ts': { ...sign, verify: (...a: Parameters<typeof sign.verify>) => (verifies++, sign.verify(...a)) },
  });
  const penalties: [unknown, string][] = [];
  // the core is at height 2
  const driver = await standIn({ height: 1, penalize: (culprit, reason) => penalties.push([culprit, reason]), Driver });
  const hash = new Uint8Array(32).fill(5);
  const prepare = encodeMessage(signMessage(CHAIN, keys[2]!, { type: 'Prepare', from: 2, height: 2, view: 0, blockHash: hash, signature: new Uint8Array(64) }));
  for (let i = 0; i < 5; i++) driver.deliver(prepare, 'peer-2');
  t.equal(verifies, 1, 'the same Prepare five times: verified once');
  // a NewView naming more ViewChanges than there are validators: refused by its shape, nothing verified
  verifies = 0;
  const vc = signMessage(CHAIN, keys[1]!, { type: 'ViewChange', from: 1, height: 2, newView: 1, prepared: undefined, signature: new Uint8Array(64) });
  const pp = signMessage(CHAIN, keys[1]!, { type: 'PrePrepare', from: 1, height: 2, view: 1, blockHash: hash, payload: new Uint8Array(10), signature: new Uint8Array(64) });
  const nv = signMessage(CHAIN, keys[1]!, { type: 'NewView', from: 1, height: 2, view: 1, viewChanges: [vc, vc, vc, vc, vc], prePrepare: pp, signature: new Uint8Array(64) } as ConsensusMessage);
  driver.deliver(encodeMessage(nv), 'peer-1');
  t.equal(verifies, 0, 'an oversized NewView costs no signature check');
  t.same(penalties.at(-1), [{ peer: 'peer-1' }, 'malformed'], 'and costs its sender');
  // a message for a height already decided is dropped unverified and unpunished
  await new Promise((r) => setImmediate(r));
  const old = encodeMessage(signMessage(CHAIN, keys[2]!, { type: 'Prepare', from: 2, height: 1, view: 0, blockHash: hash, signature: new Uint8Array(64) }));
  const before = penalties.length;
  driver.deliver(old, 'peer-2');
  t.equal(verifies, 0, 'a stale message is not verified');
  t.equal(penalties.length, before);
  await driver.stop();
});

t.test('a prepared certificate whose block does not hash to the certified hash is refused on receipt, before its signatures', async (t) => {
  const penalties: [unknown, string][] = [];
  const driver = await standIn({ height: 1, penalize: (culprit, reason) => penalties.push([culprit, reason]) });
  const header = (stateByte: number): BlockHeader => ({
    chainId: CHAIN, height: 2, time: GENESIS_TIME + 2, prevHash: new Uint8Array(32).fill(1), proposer: new Uint8Array(20),
    validatorSetHash: new Uint8Array(32).fill(2), txRoot: new Uint8Array(32).fill(3), stateRoot: new Uint8Array(32).fill(stateByte), resultsRoot: new Uint8Array(32).fill(5),
  });
  const certified = header(4);
  const hash = blockHash(certified);
  const sig = new Uint8Array(64);
  // height 2, view 0: the primary is validator 2 (height + view mod 4); backups 0 and 1 prepared
  const viewChange = (payload: Uint8Array, from: number) => {
    const pp = signMessage(CHAIN, keys[2]!, { type: 'PrePrepare', from: 2, height: 2, view: 0, blockHash: hash, payload, signature: sig });
    const prepares = [0, 1].map((i) => signMessage(CHAIN, keys[i]!, { type: 'Prepare', from: i, height: 2, view: 0, blockHash: hash, signature: sig }));
    return encodeMessage(signMessage(CHAIN, keys[from]!, { type: 'ViewChange', from, height: 2, newView: 1, prepared: { view: 0, blockHash: hash, prePrepare: pp, prepares }, signature: sig } as ConsensusMessage));
  };
  // the primary signed a PrePrepare naming `hash` over another block: every signature is valid
  driver.deliver(viewChange(encodeBlock({ header: header(9), txs: [] }), 0), 'peer-0');
  driver.deliver(viewChange(new Uint8Array([1, 2, 3]), 1), 'peer-1');
  driver.deliver(viewChange(encodeBlock({ header: certified, txs: [] }), 2), 'peer-2');
  await new Promise((r) => setImmediate(r));
  t.same(penalties.map(([c]) => c), [{ peer: 'peer-0' }, { peer: 'peer-1' }], 'the two bad certificates cost their deliverers; the good one nothing');
  t.match(penalties[0]![1], /does not hash to the certified hash/);
  t.match(penalties[1]![1], /undecodable block/);
  await driver.stop();
});
