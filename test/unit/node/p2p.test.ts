import '../../../lib/polyfill.js';
import t from 'tap';
import { SYNC_MAX_REQUEST_BYTES } from '../../../consensus/sync.js';
import { createHash } from 'node:crypto';
import { createP2p, peerIdFromPrivateKey, P2P_ERR, type P2p, type P2pOptions } from '../../../node/p2p.js';
import { InvalidMessageError, IotchainError, ERR } from '../../../lib/errors.js';

// Four validators A..D on loopback (port 0), each dialling the ones started before it; X is not a
// validator. A has a small message limit (64 KiB) so that oversize frames are cheap to produce.
const CHAIN = 'p2p-test';
const key = (label: string) => new Uint8Array(createHash('sha256').update(`p2p-test-${label}`).digest());
const KEYS = { A: key('A'), B: key('B'), C: key('C'), D: key('D'), X: key('X') };
const ID = Object.fromEntries(Object.entries(KEYS).map(([k, v]) => [k, peerIdFromPrivateKey(v)])) as Record<keyof typeof KEYS, string>;
const VALIDATORS = [ID.A, ID.B, ID.C, ID.D];
const SMALL = 64 * 1024;
const utf8 = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

type Name = 'A' | 'B' | 'C' | 'D';
interface Logged {
  msg: string;
  obj: Record<string, unknown>;
}
interface TestNode {
  name: string;
  p2p: P2p;
  msgs: { msg: string; from: string }[];
  txs: { tx: string; from: string }[];
  /** What the tx-batch preparer and the tx handler saw, in order ('batch:a|b', 'tx:a', ...). */
  seen: string[];
  logs: Logged[];
}

const started: P2p[] = [];
t.teardown(async () => {
  await Promise.allSettled(started.map((p) => p.stop()));
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startNode(name: string, opts: Partial<P2pOptions> & { privateKey: Uint8Array }): Promise<TestNode> {
  const logs: Logged[] = [];
  const push = (msg: string, obj?: object) => logs.push({ msg, obj: (obj ?? {}) as Record<string, unknown> });
  const p2p = await createP2p(CHAIN, {
    host: '127.0.0.1',
    port: 0,
    peers: [],
    allowedPeers: VALIDATORS,
    reconnect: { initialMs: 100, maxMs: 1000 },
    log: { debug: push, info: push, warn: push, error: push },
    ...opts,
  });
  started.push(p2p);
  const n: TestNode = { name, p2p, msgs: [], txs: [], seen: [], logs };
  wire(n);
  await p2p.start();
  return n;
}

function wire(n: TestNode): void {
  n.p2p.onMessage((m, from) => {
    n.msgs.push({ msg: str(m), from });
  });
  n.p2p.onTxBatch((txs) => {
    n.seen.push(`batch:${txs.map(str).join('|')}`);
    if (txs.some((x) => str(x) === 'prep-throws')) throw new Error('preparer failed');
  });
  n.p2p.onTx((raw, from) => {
    const tx = str(raw);
    n.seen.push(`tx:${tx}`);
    if (tx.startsWith('bad')) throw new InvalidMessageError(ERR.ENCODING, 'bad tx');
    n.txs.push({ tx, from });
  });
  n.p2p.serveSync(async (req) => {
    const r = str(req);
    if (r === 'hang') return new Promise<Uint8Array>(() => undefined);
    if (r === 'big') return new Uint8Array(SMALL + 1);
    return utf8(`re:${r}`);
  });
}

const addr = (n: TestNode) => n.p2p.multiaddrs[0]!;
const count = (n: TestNode, msg: string) => n.msgs.filter((m) => m.msg === msg).length;
const fullMesh = (ns: TestNode[]) => ns.every((n) => n.p2p.connectedPeers().length === ns.length - 1);

t.test('p2p among four validators', async (t) => {
  const nodes = {} as Record<Name, TestNode>;
  nodes.A = await startNode('A', { privateKey: KEYS.A, maxMessageBytes: SMALL });
  nodes.B = await startNode('B', { privateKey: KEYS.B, peers: [addr(nodes.A)] });
  nodes.C = await startNode('C', { privateKey: KEYS.C, peers: [addr(nodes.A), addr(nodes.B)], maxConsensusBytes: 1024 });
  nodes.D = await startNode('D', { privateKey: KEYS.D, peers: [addr(nodes.A), addr(nodes.B), addr(nodes.C)] });
  const all = () => [nodes.A, nodes.B, nodes.C, nodes.D];
  const { A, B, C, D } = nodes;
  t.equal(A.p2p.peerId, ID.A, 'peer id derives from the secp256k1 key');
  t.match(A.p2p.peerId, /^16Uiu2/, 'secp256k1 peer id');
  await until(() => fullMesh(all()), 'full mesh');

  await t.test('broadcast reaches every other node exactly once, never the sender', async (t) => {
    await A.p2p.broadcast(utf8('m1'));
    await A.p2p.broadcast(utf8('m1-end'));
    // one ordered stream per peer: once the marker is in, m1 has been delivered as often as it ever will be
    await until(() => [B, C, D].every((n) => count(n, 'm1-end') === 1), 'm1-end everywhere');
    for (const n of [B, C, D]) {
      t.equal(count(n, 'm1'), 1, `${n.name} got m1 once`);
      t.same(n.msgs.find((m) => m.msg === 'm1')?.from, ID.A, `${n.name} sees A as the sender`);
    }
    t.equal(count(A, 'm1') + count(A, 'm1-end'), 0, 'the sender does not receive its own broadcast');
  });

  await t.test('send reaches one peer only', async (t) => {
    await B.p2p.send(ID.C, utf8('to-C'));
    await B.p2p.broadcast(utf8('m2-end'));
    await until(() => [A, C, D].every((n) => count(n, 'm2-end') === 1), 'm2-end everywhere');
    t.equal(count(C, 'to-C'), 1, 'C got it');
    t.equal(count(A, 'to-C') + count(D, 'to-C') + count(B, 'to-C'), 0, 'nobody else did');
    await t.rejects(B.p2p.send('16Uiu2HAmUnknownPeerUnknownPeerUnknownPeerUnknownPeer1', utf8('x')), 'an unknown peer id is refused');
  });

  await t.test('many yamux windows of data on one stream arrive whole and in order (credit returned per half window)', async (t) => {
    // a 256 KiB window: 3 MiB, then 40 × 100 KiB sent at once, need dozens of window updates
    const body = (tag: string, n: number) => tag + ':' + String.fromCharCode(97 + (n % 26)).repeat(n - tag.length - 1);
    const sent = [body('w-big', 3 * 1024 * 1024), ...Array.from({ length: 40 }, (_, i) => body(`w-${i}`, 100 * 1024 + i))];
    await Promise.all(sent.map((m) => B.p2p.send(ID.D, utf8(m))));
    await until(() => D.msgs.some((m) => m.msg.startsWith('w-39:')), 'the last of them');
    const got = D.msgs.filter((m) => m.msg.startsWith('w-'));
    t.equal(got.length, sent.length, 'every message once');
    t.ok(
      got.every((m, i) => m.msg === sent[i] && m.from === ID.B),
      'byte for byte, in the order sent',
    );
  });

  await t.test('publishTx reaches all the others through gossipsub; an invalid tx scores its relayer down', async (t) => {
    await until(() => all().every((n) => n.p2p.gossipPeers().length === 3), 'tx topic subscriptions');
    await B.p2p.publishTx(utf8('tx-1'));
    await until(() => [A, C, D].every((n) => n.txs.some((x) => x.tx === 'tx-1')), 'tx-1 everywhere');
    t.notOk(B.txs.some((x) => x.tx === 'tx-1'), 'not delivered to its publisher');
    await B.p2p.publishTx(utf8('tx-1'));
    await B.p2p.publishTx(utf8('tx-2'));
    await until(() => [A, C, D].every((n) => n.txs.some((x) => x.tx === 'tx-2')), 'tx-2 everywhere');
    for (const n of [A, C, D]) t.equal(n.txs.filter((x) => x.tx === 'tx-1').length, 1, `${n.name} got tx-1 once`);

    t.equal(D.p2p.peerScore(ID.C), 0);
    await C.p2p.publishTx(utf8('bad-tx'));
    await until(() => D.p2p.peerScore(ID.C) < 0, 'D scores C down');
    t.notOk(D.p2p.isBanned(ID.C), 'one invalid tx is not enough for a ban');
    // one batch: an invalid tx first stops the batch there; the tx after it is never handled
    const before = D.p2p.peerScore(ID.C);
    void C.p2p.publishTx(utf8('bad-first'));
    void C.p2p.publishTx(utf8('tx-after-bad'));
    await until(() => D.p2p.peerScore(ID.C) < before, 'D scores C down again');
    t.ok(D.p2p.peerScore(ID.C) > before - 15, `one penalty (10) for the whole batch, not two: ${before} → ${D.p2p.peerScore(ID.C)}`);
    t.notOk([A, B, D].some((n) => n.txs.some((x) => x.tx === 'tx-after-bad')), 'the rest of a rejected batch is not handled (nor relayed)');
    await t.rejects(B.p2p.publishTx(new Uint8Array(128 * 1024 + 1)), { code: ERR.TOO_LARGE }, 'oversize tx refused locally');

    // the batch preparer sees each received batch whole, once, before the handler sees its txs
    for (const n of [A, C, D]) {
      const batch = n.seen.indexOf('batch:tx-1');
      t.ok(batch >= 0 && batch < n.seen.indexOf('tx:tx-1'), `${n.name}: the batch [tx-1] was prepared before tx-1 was handled`);
    }
    t.notOk(D.seen.includes('tx:tx-after-bad'), 'a batch refused at its first tx: the rest is not handled even though it was prepared');
    void B.p2p.publishTx(utf8('prep-throws'));
    void B.p2p.publishTx(utf8('tx-3'));
    await until(() => [A, C, D].every((n) => n.txs.some((x) => x.tx === 'tx-3')), 'tx-3 everywhere');
    for (const n of [A, C, D]) t.ok(n.txs.some((x) => x.tx === 'prep-throws'), `${n.name}: a preparer that throws does not stop the batch`);
  });

  await t.test('sync: round trip, timeout, oversize response refused', async (t) => {
    t.equal(str(await A.p2p.requestSync(ID.B, utf8('height 7'))), 're:height 7');
    t.equal(str(await B.p2p.requestSync(ID.A, utf8('x'))), 're:x');
    const t0 = Date.now();
    await t.rejects(A.p2p.requestSync(ID.B, utf8('hang'), 300), { code: P2P_ERR.TIMEOUT });
    t.ok(Date.now() - t0 < 3000, 'the timeout is honoured');
    await until(() => B.logs.some((l) => l.msg === 'sync request failed' && l.obj.peer === ID.A), 'B gives up the abandoned request', 5000);
    // B's limit is 4 MiB, A's 64 KiB: A refuses B's answer from its length prefix
    const err = await A.p2p.requestSync(ID.B, utf8('big')).catch((e: unknown) => e);
    t.ok(err instanceof InvalidMessageError && err.code === ERR.TOO_LARGE, 'oversize response refused');
    t.ok(A.p2p.peerScore(ID.B) < 0, 'and its sender scored down');
    t.ok(str(await A.p2p.requestSync(ID.C, utf8('still fine'))).startsWith('re:'), 'other requests unaffected');
    await t.rejects(A.p2p.requestSync(ID.C, new Uint8Array(SMALL + 1)), { code: ERR.TOO_LARGE }, 'oversize request refused locally');
    // a sync request is [fromHeight, maxBlocks]: the server refuses a longer one from its length prefix
    const before = C.p2p.peerScore(ID.A);
    await t.rejects(A.p2p.requestSync(ID.C, new Uint8Array(SYNC_MAX_REQUEST_BYTES + 1), 3000), 'a request longer than a sync request can be fails');
    await until(() => C.p2p.peerScore(ID.A) < before, 'C scores A down for it', 5000);
    t.ok(C.p2p.peerScore(ID.A) < before, 'and costs its sender');
  });

  await t.test('a peer that is not a validator is refused until allowPeers names it', async (t) => {
    const seenByA: string[] = [];
    A.p2p.onPeer((id) => seenByA.push(id));
    const X = await startNode('X', { privateKey: KEYS.X, peers: [addr(A)], allowedPeers: undefined });
    const refusedX = () => A.logs.filter((l) => l.msg === 'connection refused' && l.obj.peer === ID.X && l.obj.reason === 'not allowed').length;
    await until(() => refusedX() >= 2, 'A refuses X twice (X redials)');
    t.notOk(A.p2p.connectedPeers().includes(ID.X), 'A has no connection to X');
    t.notOk(seenByA.includes(ID.X), 'A never reported X as a peer');
    // a validator-set change names X: A allows it, and X's redials get in
    A.p2p.allowPeers([ID.X]);
    await until(() => A.p2p.connectedPeers().includes(ID.X), 'X connected once allowed', 15_000);
    t.ok(seenByA.includes(ID.X), 'A reports X as a peer once allowed');
    await X.p2p.stop();
  });

  await t.test('a consensus limit below the message limit: longer consensus frames refused from the prefix, sync unaffected', async (t) => {
    const C = nodes.C;
    await D.p2p.send(ID.C, new Uint8Array(1025));
    await until(() => C.p2p.peerScore(ID.D) < 0, 'C scores D down');
    t.equal(C.msgs.filter((m) => m.from === ID.D && m.msg.length > 1024).length, 0, 'nothing over 1 KiB delivered');
    await D.p2p.send(ID.C, utf8('small-after'));
    await until(() => count(C, 'small-after') === 1, 'the next small message gets through');
    t.equal(str(await A.p2p.requestSync(ID.C, utf8('x'.repeat(40)))), `re:${'x'.repeat(40)}`, 'sync requests and responses keep their own limits');
  });

  await t.test('a node that restarts on the same port is reconnected by the others', async (t) => {
    const oldAddr = addr(A);
    const port = Number(oldAddr.split('/')[4]);
    await A.p2p.stop();
    await until(() => [B, C, D].every((n) => !n.p2p.connectedPeers().includes(ID.A)), 'A gone');
    // A comes back with no static peers: only B, C and D's redials can bring it back
    const A2 = await startNode('A2', { privateKey: KEYS.A, maxMessageBytes: SMALL, port });
    nodes.A = A2;
    t.equal(addr(A2), oldAddr, 'same address');
    await until(() => fullMesh(all()), 'full mesh again');
    await B.p2p.broadcast(utf8('after-restart'));
    await until(() => count(A2, 'after-restart') === 1, 'consensus stream reopened');
    t.pass('reconnected');
  });

  await t.test('oversize consensus frames penalize the sender, which is disconnected and refused after the threshold', async (t) => {
    const A2 = nodes.A;
    const big = new Uint8Array(SMALL + 1); // fine for D (4 MiB), oversize for A (64 KiB)
    await D.p2p.send(ID.A, big);
    await until(() => A2.p2p.peerScore(ID.D) < 0, 'first penalty');
    t.notOk(A2.p2p.isBanned(ID.D), 'one bad frame is not a ban');
    t.equal(A2.msgs.filter((m) => m.from === ID.D && m.msg.length > SMALL).length, 0, 'nothing oversize delivered');
    // keep sending until the threshold is crossed (a reset stream may swallow a frame or two)
    const end = Date.now() + 10_000;
    while (!A2.p2p.isBanned(ID.D) && Date.now() < end) {
      await D.p2p.send(ID.A, big).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
    t.ok(A2.p2p.isBanned(ID.D), 'banned');
    await until(() => !A2.p2p.connectedPeers().includes(ID.D) && !D.p2p.connectedPeers().includes(ID.A), 'D disconnected');
    // D redials A (a static peer); A refuses while the ban lasts
    await until(() => A2.logs.some((l) => l.msg === 'connection refused' && l.obj.peer === ID.D && l.obj.reason === 'banned'), 'a refused redial');
    t.notOk(A2.p2p.connectedPeers().includes(ID.D), 'still out');
    t.ok(B.p2p.connectedPeers().includes(ID.D), 'D keeps its other peers');
    await C.p2p.broadcast(utf8('still-alive'));
    await until(() => count(A2, 'still-alive') === 1 && count(D, 'still-alive') === 1, 'the rest of the network works');
  });

  await t.test('honest traffic stays within the default budgets', async (t) => {
    for (const n of all()) t.same(n.p2p.overBudget(), { consensus: 0, sync: 0 }, `${n.name}: nothing over budget`);
  });
});

// P serves with small budgets on a clock the test moves; Q floods it.
t.test('per-peer budgets: consensus frames over budget are dropped, sync requests refused, the peer scored down', async (t) => {
  const k = (i: string) => key(`budget-${i}`);
  const ids = [peerIdFromPrivateKey(k('P')), peerIdFromPrivateKey(k('Q'))];
  let clock = 1_000_000;
  const P = await startNode('P', {
    privateKey: k('P'),
    allowedPeers: ids,
    now: () => clock,
    budgets: {
      consensus: { messagesPerSecond: 2, messageBurst: 4, bytesPerSecond: 100, byteBurst: 1000 },
      sync: { messagesPerSecond: 1, messageBurst: 3, bytesPerSecond: 10, byteBurst: 50 },
    },
  });
  const Q = await startNode('Q', { privateKey: k('Q'), allowedPeers: ids, peers: [addr(P)] });
  t.teardown(() => Promise.allSettled([P, Q].map((n) => n.p2p.stop())).then(() => undefined));
  await until(() => P.p2p.connectedPeers().includes(ids[1]!) && Q.p2p.connectedPeers().includes(ids[0]!), 'P and Q connected');

  await t.test('consensus: the burst passes, the rest is dropped before the handler', async (t) => {
    for (let i = 0; i < 10; i++) await Q.p2p.send(ids[0]!, utf8(`c${i}`));
    await until(() => P.p2p.overBudget().consensus === 6, '6 frames over budget');
    t.same(P.msgs.map((m) => m.msg), ['c0', 'c1', 'c2', 'c3'], 'the first 4, in order');
    t.equal(P.p2p.peerScore(ids[1]!), -12, 'each dropped frame cost Q 2 points (no decay: the clock stands still)');
    clock += 1000; // 2 messages refilled
    for (let i = 10; i < 13; i++) await Q.p2p.send(ids[0]!, utf8(`c${i}`));
    await until(() => P.p2p.overBudget().consensus === 7, 'the third is over budget again');
    t.same(P.msgs.map((m) => m.msg).slice(4), ['c10', 'c11'], 'the sustained rate: 2 per second');
    clock += 10_000;
    P.msgs.length = 0;
    await Q.p2p.send(ids[0]!, new Uint8Array(900).fill(0x61));
    await Q.p2p.send(ids[0]!, new Uint8Array(200).fill(0x62));
    await Q.p2p.send(ids[0]!, utf8('small'));
    await until(() => P.p2p.overBudget().consensus === 8 && count(P, 'small') === 1, 'the 200-byte frame over the byte budget, the small one through');
    t.same(P.msgs.map((m) => m.msg.length), [900, 5], 'bytes are budgeted too: 900 + 200 > 1000');
  });

  await t.test('sync: requests and response bytes are budgeted; over budget, the request is refused', async (t) => {
    const req = utf8('x'.repeat(40)); // answered with 43 bytes
    t.equal(str(await Q.p2p.requestSync(ids[0]!, req)).length, 43, 'first request served (50 → 7 bytes left)');
    t.equal(str(await Q.p2p.requestSync(ids[0]!, req)).length, 43, 'second served: a response is charged after it is built (7 → -36)');
    await t.rejects(Q.p2p.requestSync(ids[0]!, req, 3000), { code: P2P_ERR.STREAM }, 'third refused: response bytes overdrawn');
    t.equal(P.p2p.overBudget().sync, 1);
    clock += 4000; // +40 bytes, +3 requests (capped at 3)
    t.equal(str(await Q.p2p.requestSync(ids[0]!, req)), `re:${'x'.repeat(40)}`, 'served again once refilled');
    clock += 60_000;
    for (let i = 0; i < 3; i++) t.equal(str(await Q.p2p.requestSync(ids[0]!, utf8('y'))), 're:y', `small request ${i + 1} of the burst of 3`);
    await t.rejects(Q.p2p.requestSync(ids[0]!, utf8('y'), 3000), { code: P2P_ERR.STREAM }, 'the fourth is over the request budget');
    t.equal(P.p2p.overBudget().sync, 2);
  });

  await t.test('a peer that keeps flooding is banned', async (t) => {
    const end = Date.now() + 10_000;
    for (let i = 0; !P.p2p.isBanned(ids[1]!) && Date.now() < end; i++) {
      await Q.p2p.send(ids[0]!, utf8(`flood${i}`)).catch(() => undefined);
      await new Promise((r) => setImmediate(r)); // let the sockets move (a send only queues the frame)
    }
    t.ok(P.p2p.isBanned(ids[1]!), `banned after ${P.p2p.overBudget().consensus} frames over budget in all`);
    await until(() => !P.p2p.connectedPeers().includes(ids[1]!), 'and disconnected');
  });
});

// A line L1 – L2 – L3: L1 and L3 are not connected, so a tx published at L1 reaches L3 only through L2.
t.test('tx relay over a line of three nodes', async (t) => {
  for (const relay of ['flood', 'mesh'] as const) {
    await t.test(relay, async (t) => {
      const k = (i: number) => key(`line-${relay}-${i}`);
      const ids = [1, 2, 3].map((i) => peerIdFromPrivateKey(k(i)));
      const opts = (i: number, peers: string[]) => ({ privateKey: k(i), allowedPeers: ids, txRelay: relay, peers });
      const L1 = await startNode('L1', opts(1, []));
      const L2 = await startNode('L2', opts(2, [addr(L1)]));
      const L3 = await startNode('L3', opts(3, [addr(L2)]));
      t.teardown(() => Promise.allSettled([L1, L2, L3].map((n) => n.p2p.stop())).then(() => undefined));
      await until(() => L2.p2p.gossipPeers().length === 2 && L1.p2p.gossipPeers().length === 1 && L3.p2p.gossipPeers().length === 1, 'tx topic subscriptions');
      t.same(L1.p2p.connectedPeers(), [ids[1]], 'L1 knows L2 only');
      if (relay === 'mesh') {
        await until(() => L2.p2p.gossipMeshPeers().length === 2, 'mesh: L2 grafts L1 and L3');
        t.same(L2.p2p.gossipMeshPeers().sort(), [ids[0], ids[2]].sort(), 'mesh: L1 and L3 in L2\'s mesh');
      }
      await L1.p2p.publishTx(utf8(`line-${relay}`));
      // flood: L2 has it from L1's publish; L3 asks L2 for it after L2's IHAVE at a heartbeat (1 s)
      await until(() => L3.txs.some((x) => x.tx === `line-${relay}`), `the tx at L3 (${relay})`);
      t.same(L3.txs.filter((x) => x.tx === `line-${relay}`).map((x) => x.from), [ids[1]], 'L3 got it once, from L2');
      t.equal(L2.txs.filter((x) => x.tx === `line-${relay}`).length, 1, 'L2 got it once');
      // checked after the tx crossed, which takes a heartbeat: by then gossipsub would have grafted
      if (relay === 'flood') t.same([L1, L2, L3].map((n) => n.p2p.gossipMeshPeers()), [[], [], []], 'flood: no gossipsub mesh, so nothing is pushed on');
    });
  }
});

t.test('configuration errors', async (t) => {
  await t.rejects(createP2p(CHAIN, { privateKey: new Uint8Array(31), host: '127.0.0.1', port: 0, peers: [] }), { code: ERR.CONFIG });
  await t.rejects(createP2p(CHAIN, { privateKey: KEYS.A, host: '127.0.0.1', port: 0, peers: ['/ip4/127.0.0.1/tcp/1'] }), { code: ERR.CONFIG }, 'static peer without /p2p/');
  const p = await createP2p(CHAIN, { privateKey: KEYS.A, host: '127.0.0.1', port: 0, peers: [] });
  started.push(p);
  const err = await p.broadcast(utf8('x')).catch((e: unknown) => e);
  t.ok(err instanceof IotchainError && err.code === P2P_ERR.NOT_STARTED, 'not started');
});
