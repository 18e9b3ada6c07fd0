// Block sync (consensus/sync.ts) between in-memory chains: a fresh node catches up over more than
// one response, every synced block is reported to onCommit in order, and each kind of bad peer
// (unreachable, garbage, forged certificate, a block that does not re-execute) is penalized and
// skipped for an honest one; serveSync refuses malformed requests.
import t from 'tap';
import { App } from '../../../protocols/app.js';
import { defaultModules } from '../../../protocols/registry.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { encode, decode, tuple, u53 } from '../../../lib/encoding.js';
import { toHex } from '../../../lib/hex.js';
import { KeyType } from '../../../crypto/keys.js';
import { commitCertificateCodec, decodeBlock, encodeBlock } from '../../../state/block.js';
import { encodeSyncRequest, serveSync, syncBlocks, syncResponseCodec, SYNC_MAX_BLOCKS } from '../../../consensus/sync.js';
import type { CommittedBlock } from '../../../state/application.js';
import { testChain, testKey, transferTx, addr } from '../../utils/chain.js';

const vals = [0, 1, 2, 3].map((i) => testKey(`sync-v${i}`, KeyType.p256));
const alice = testKey('sync-alice');
const bob = testKey('sync-bob');
const HEIGHT = SYNC_MAX_BLOCKS + 6;
const tupleOfRequest = tuple<[number, number]>(u53, u53);

async function source() {
  const c = await testChain({ validators: vals, funded: [[alice, 1_000_000n]] });
  for (let h = 1; h <= HEIGHT; h++) await c.block(h % 5 === 0 ? [transferTx(alice, addr(bob), 1n, h / 5 - 1)] : []);
  return c;
}

async function fresh(c: Awaited<ReturnType<typeof source>>) {
  return App.open({ store: new MemoryKvStore(), genesis: c.app.genesis, modules: defaultModules() });
}

t.test('a fresh node syncs every block (two responses), in order, to the same state', async (t) => {
  const src = await source();
  const app = await fresh(src);
  const seen: CommittedBlock[] = [];
  const requests: number[] = [];
  const last = await syncBlocks(
    {
      app,
      validators: src.app.info().validators,
      request: async (peer, req) => {
        requests.push(peer);
        return serveSync(src.app.blocks, req);
      },
      onCommit: (b) => seen.push(b),
    },
    HEIGHT + 1,
    [2],
    0,
  );
  t.equal(last, HEIGHT);
  t.same(seen.map((b) => b.header.height), Array.from({ length: HEIGHT }, (_, i) => i + 1), 'onCommit saw every synced block, in order');
  t.equal(toHex(app.info().stateRoot), toHex(src.app.info().stateRoot), 'same state root');
  t.equal(app.account(addr(bob)).balance, BigInt(Math.floor(HEIGHT / 5)), 'the synced transfers executed');
  t.same(requests, [2, 2], 'the hinted peer first, two requests of up to 64 blocks');
});

t.test('bad peers are penalized and skipped; an honest one completes the sync', async (t) => {
  const src = await source();
  const app = await fresh(src);
  const honest = (req: Uint8Array) => serveSync(src.app.blocks, req);
  const forge = (req: Uint8Array, mutate: (block: Uint8Array, cert: Uint8Array) => [Uint8Array, Uint8Array]) =>
    encode(syncResponseCodec, decode(syncResponseCodec, honest(req)).map(([b, c]) => mutate(b, c)));
  const peers: Record<number, (req: Uint8Array) => Uint8Array | Promise<Uint8Array>> = {
    0: () => Promise.reject(new Error('unreachable')),
    1: () => new Uint8Array([0xc1, 0x00]),
    2: (req) =>
      forge(req, (b, c) => {
        const cert = decode(commitCertificateCodec, c);
        const sig = new Uint8Array(cert.votes[0]!.signature);
        sig[10]! ^= 1;
        return [b, encode(commitCertificateCodec, { ...cert, votes: [{ ...cert.votes[0]!, signature: sig }, ...cert.votes.slice(1)] })];
      }),
    3: (req) =>
      forge(req, (b, c) => {
        const block = decodeBlock(b);
        // a block whose header names another state root: its certificate no longer matches
        return [encodeBlock({ ...block, header: { ...block.header, stateRoot: new Uint8Array(32).fill(1) } }), c];
      }),
  };
  const penalties: [number, string][] = [];
  const warnings: string[] = [];
  let honestUsed = 0;
  const last = await syncBlocks(
    {
      app,
      validators: [...src.app.info().validators, { name: 'v4', consensusKey: testKey('sync-v4', KeyType.p256).publicKey, peerId: 'peer-4', power: 1 }],
      request: async (peer, req) => {
        if (peer === 4) {
          honestUsed++;
          return honest(req);
        }
        return peers[peer]!(req);
      },
      penalize: (peer, reason) => penalties.push([peer, reason]),
      log: { warn: (m) => warnings.push(m) },
    },
    HEIGHT + 1,
    [0, 1, 2, 3],
    99,
  );
  t.equal(last, HEIGHT, 'synced to the end through the honest peer');
  t.ok(honestUsed >= 2);
  t.ok(warnings.includes('sync request failed'), 'the unreachable peer is logged, not penalized');
  t.notOk(penalties.some(([p]) => p === 0));
  t.match(penalties.find(([p]) => p === 1)?.[1], /bad sync response/, 'garbage response penalized');
  t.match(penalties.find(([p]) => p === 2)?.[1], /sync: certificate/, 'forged certificate penalized');
  t.match(penalties.find(([p]) => p === 3)?.[1], /sync: /, 'a block that does not match its certificate penalized');
  t.equal(toHex(app.info().stateRoot), toHex(src.app.info().stateRoot));
});

t.test('serveSync: bounded responses, malformed requests refused', async (t) => {
  const src = await source();
  const pairs = decode(syncResponseCodec, serveSync(src.app.blocks, encodeSyncRequest(5, 1000)));
  t.equal(pairs.length, SYNC_MAX_BLOCKS, 'at most 64 blocks whatever is asked');
  t.equal(decodeBlock(pairs[0]![0]).header.height, 5);
  t.same(decode(syncResponseCodec, serveSync(src.app.blocks, encodeSyncRequest(HEIGHT + 1, 10))), [], 'nothing beyond the head');
  t.throws(() => serveSync(src.app.blocks, encodeSyncRequest(0, 10)), { code: 'SYNC_BAD_REQUEST' });
  t.throws(() => serveSync(src.app.blocks, new Uint8Array([0x92, 0x01])), { code: 'ENCODING_INVALID' }, 'truncated request');
  t.throws(() => serveSync(src.app.blocks, new Uint8Array(65)), /exceeds|ENCODING|limit/, 'oversize request');
});

t.test('serveSync serves the stored bytes as they are (no decode and re-encode per request)', async (t) => {
  const src = await source();
  const pairs = decode(syncResponseCodec, serveSync(src.app.blocks, encodeSyncRequest(3, 4)));
  t.equal(pairs.length, 4);
  for (const [i, [b, c]] of pairs.entries()) {
    t.same(b, src.app.blocks.rawBlock(3 + i), `block ${3 + i}: the stored bytes`);
    t.same(c, src.app.blocks.rawCertificate(3 + i), `certificate ${3 + i}: the stored bytes`);
  }
  // a store whose decoders would throw still serves: nothing is decoded
  const blocks = Object.assign(Object.create(src.app.blocks) as typeof src.app.blocks, {
    block: () => {
      throw new Error('decoded');
    },
    certificate: () => {
      throw new Error('decoded');
    },
  });
  t.equal(decode(syncResponseCodec, serveSync(blocks, encodeSyncRequest(1, 2))).length, 2);
});

t.test('a response that starts below the next height (consensus committed meanwhile) is skipped without a penalty', async (t) => {
  const src = await source();
  const app = await fresh(src);
  const penalties: [number, string][] = [];
  // the peer answers from one height too early, as if the node had committed that height by consensus
  // after asking: the block it already has is skipped, the rest is synced
  const last = await syncBlocks(
    {
      app,
      validators: src.app.info().validators,
      request: async (_peer, req) => {
        const [from, max] = decode(tupleOfRequest, req);
        return serveSync(src.app.blocks, encodeSyncRequest(Math.max(1, from - 1), max));
      },
      penalize: (peer, reason) => penalties.push([peer, reason]),
    },
    HEIGHT + 1,
    [1],
    0,
  );
  t.equal(last, HEIGHT, 'synced to the end');
  t.same(penalties, [], 'the honest peer was not penalized');
});
