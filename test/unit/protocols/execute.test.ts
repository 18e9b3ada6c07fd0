import t from 'tap';
import { executeTxs } from '../../../protocols/execute.js';
import { indexModules, defaultModules } from '../../../protocols/registry.js';
import { readAccount } from '../../../protocols/bank/index.js';
import { scopedReader, type NativeModule, type TxContext } from '../../../protocols/module.js';
import { ProtocolError } from '../../../lib/errors.js';
import { struct, u8, encode, type Codec } from '../../../lib/encoding.js';
import { Overlay } from '../../../state/overlay.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { buildTx } from '../../../state/tx.js';
import { testGenesis, testKey, CHAIN_ID, GENESIS_TIME } from '../../utils/chain.js';
import { KeyType } from '../../../crypto/keys.js';

// A test module whose handlers write a row, emit an event, then succeed or fail, either
// synchronously or after an await: both paths must give the same results and state.
const args: Codec<{ v: number }> = struct<{ v: number }>({ v: u8 }, ['v']);
type Msgs = { syncOk: { v: number }; syncFail: { v: number }; asyncOk: { v: number }; asyncFail: { v: number }; bug: { v: number }; skipIdentity: { v: number } };
function write(ctx: TxContext, v: number) {
  ctx.state.set(Uint8Array.from([v]), Uint8Array.from([v, v]));
  ctx.emit('wrote', { v, who: ctx.sender });
}
const testModule: NativeModule<Msgs> = {
  id: 250,
  name: 'test',
  methods: {
    syncOk: { id: 1, args, signer: 'any' },
    syncFail: { id: 2, args, signer: 'any' },
    asyncOk: { id: 3, args, signer: 'any' },
    asyncFail: { id: 4, args, signer: 'any' },
    bug: { id: 5, args, signer: 'any' },
    skipIdentity: { id: 6, args, signer: 'any', readsIdentity: false },
  },
  handlers: {
    syncOk: (ctx, { v }) => write(ctx, v),
    syncFail(ctx, { v }) {
      write(ctx, v);
      throw new ProtocolError('TEST_FAIL', `failed ${v}`);
    },
    async asyncOk(ctx, { v }) {
      await Promise.resolve();
      write(ctx, v);
    },
    async asyncFail(ctx, { v }) {
      write(ctx, v);
      await Promise.resolve();
      throw new ProtocolError('TEST_FAIL', `failed ${v}`);
    },
    bug() {
      throw new TypeError('a bug');
    },
    skipIdentity(ctx, { v }) {
      if (v === 1) void ctx.identity;
      write(ctx, v);
    },
  },
  queries: {},
};

const key = testKey('exec-test', KeyType.p256);
const tx = (nonce: number, methodId: number, v: number) => buildTx(key, { chainId: CHAIN_ID, nonce, moduleId: 250, methodId, args: encode(args, { v }), fee: 0n });

async function run(txs: Uint8Array[]) {
  const env = { chainId: CHAIN_ID, params: testGenesis().params, modules: indexModules([...defaultModules(), testModule as unknown as NativeModule]) };
  const overlay = new Overlay(new MemoryKvStore());
  const readAcct = (s: Uint8Array) => readAccount({ readerOf: (id) => scopedReader(overlay, id) }, s);
  const exec = await executeTxs(env, overlay, { height: 1, time: GENESIS_TIME, proposer: new Uint8Array(20) }, txs, 'propose', readAcct);
  const state = overlay
    .changes()
    .filter((c) => c.key[2] === 250)
    .map((c) => [c.key[3], c.value && [...c.value]]);
  return { results: exec.results, state, depth: overlay.depth };
}

t.test('sync and async handlers give the same results and state', async (t) => {
  const sync = await run([tx(0, 1, 1), tx(1, 2, 2), tx(2, 1, 3)]);
  const async = await run([tx(0, 3, 1), tx(1, 4, 2), tx(2, 3, 3)]);
  t.same(sync, async);
  t.same(sync.state, [[1, [1, 1]], [3, [3, 3]]], 'the failed tx wrote nothing');
  t.same(
    sync.results.map((r) => [r.code, r.message, r.events.length]),
    [['', '', 1], ['TEST_FAIL', 'failed 2', 0], ['', '', 1]],
  );
  t.equal(sync.depth, 0, 'every checkpoint closed');
  const mixed = await run([tx(0, 1, 1), tx(1, 4, 2), tx(2, 3, 3)]);
  t.same(mixed, sync);
});

t.test('anything but a ProtocolError fails the block', async (t) => {
  await t.rejects(run([tx(0, 1, 1), tx(1, 5, 2)]), TypeError);
});

t.test('readsIdentity: false skips the signer lookup, and reading ctx.identity anyway is a bug', async (t) => {
  const ok = await run([tx(0, 6, 2)]);
  t.same(ok.results.map((r) => r.code), ['']);
  await t.rejects(run([tx(0, 6, 1)]), /declares readsIdentity: false but read ctx.identity/);
});
