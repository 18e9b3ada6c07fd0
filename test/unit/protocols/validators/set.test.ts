import t from 'tap';
import { App } from '../../../../protocols/app.js';
import { defaultModules } from '../../../../protocols/registry.js';
import { MemoryKvStore } from '../../../../state/kvStore.js';
import { parseGenesis } from '../../../../state/genesis.js';
import { validatorSetHash, validatorAddress, quorum, type Validator } from '../../../../state/block.js';
import { validatorSetCodec } from '../../../../state/block.js';
import { buildModuleTx } from '../../../../protocols/txBuilder.js';
import { indexModules } from '../../../../protocols/registry.js';
import { toHex } from '../../../../lib/hex.js';
import { KeyType, type KeyPair } from '../../../../crypto/keys.js';
import { proposalId, VALIDATORS_ERR, createValidatorsModule } from '../../../../protocols/validators/index.js';
import { encode } from '../../../../lib/encoding.js';
import { buildTx } from '../../../../state/tx.js';
import { testKey, certify, GENESIS_TIME } from '../../../utils/chain.js';

const CHAIN = 'test-chain';
const keys = [0, 1, 2, 3, 4].map((i) => testKey(`vs-${i}`, KeyType.p256));
const member = (k: KeyPair, i: number): Validator => ({ name: `v${i}`, consensusKey: k.publicKey, peerId: `peer-${i}`, power: 1 });
const genesisSet = keys.slice(0, 4).map(member);
const newSet = keys.map(member);
const modules = indexModules(defaultModules());

async function chain() {
  const clock = { now: GENESIS_TIME + 1000 };
  const genesis = parseGenesis({
    chainId: CHAIN,
    genesisTime: GENESIS_TIME,
    validators: validatorSetCodec.toJson(genesisSet) as unknown[],
    params: { stateBucketBits: 8 },
    modules: {},
  });
  const app = await App.open({ store: new MemoryKvStore(), genesis, modules: defaultModules(), now: () => clock.now });
  const nonces = new Map<string, number>();
  const tx = (k: KeyPair, method: string, args: unknown) => {
    const n = nonces.get(toHex(k.publicKey)) ?? 0;
    nonces.set(toHex(k.publicKey), n + 1);
    return buildModuleTx({ modules, key: k, chainId: CHAIN, nonce: n, fee: 0n, module: 'validators', method, args }).raw;
  };
  const block = async (txs: Uint8Array[]) => {
    clock.now += 1000;
    const info = app.info();
    const p = await app.prepareProposal({ height: info.height + 1, time: clock.now, proposer: validatorAddress(info.validators[0]!), txs });
    return app.commit(p.block, certify(keys[0]!, p.block.header.height, p.hash));
  };
  return { app, tx, block };
}

t.test('a set change needs a quorum of current validators and takes effect two heights later', async (t) => {
  const { app, tx, block } = await chain();
  t.equal(quorum(4), 3);
  const setJson = validatorSetCodec.toJson(newSet);
  const id = toHex(proposalId(newSet));

  let b = await block([tx(keys[4]!, 'propose', { validators: setJson })]);
  t.equal(b.results[0]!.code, VALIDATORS_ERR.NOT_VALIDATOR, 'a non-validator cannot propose');

  b = await block([tx(keys[0]!, 'propose', { validators: setJson }), tx(keys[1]!, 'approve', { proposal: id })]);
  t.same(b.results.map((r) => r.code), ['', '']);
  b = await block([tx(keys[1]!, 'approve', { proposal: id })]);
  t.equal(b.results[0]!.code, VALIDATORS_ERR.ALREADY_APPROVED, 'double approval refused');
  t.equal(app.info().validators.length, 4, 'two approvals of four: not yet');

  const approvedAt = (await block([tx(keys[2]!, 'approve', { proposal: id })])).header.height;
  t.equal(app.info().validators.length, 4, 'approved: the next block is still signed by the old set');
  const h1 = await block([]);
  t.equal(h1.header.height, approvedAt + 1);
  t.same(h1.header.validatorSetHash, validatorSetHash(genesisSet), 'approvedAt+1 still names the old set');
  t.equal(app.info().validators.length, 5, 'from approvedAt+2 on, the new set');
  const h2 = await block([]);
  t.same(h2.header.validatorSetHash, validatorSetHash(newSet), `block ${approvedAt + 2} names the new set`);

  b = await block([tx(keys[0]!, 'approve', { proposal: id })]);
  t.equal(b.results[0]!.code, VALIDATORS_ERR.UNKNOWN_PROPOSAL, 'the executed proposal is closed');
  b = await block([tx(keys[4]!, 'propose', { validators: setJson })]);
  t.equal(b.results[0]!.code, VALIDATORS_ERR.SAME_SET, 'the new member may now propose; the same set is refused');
  // the tx builder refuses a bad set before signing, so build this one by hand
  const validatorsModule = createValidatorsModule();
  const badArgs = encode(validatorsModule.methods.propose.args, { validators: [...newSet, newSet[0]!] });
  b = await block([buildTx(keys[4]!, { chainId: CHAIN, nonce: 2, moduleId: validatorsModule.id, methodId: validatorsModule.methods.propose.id, args: badArgs, fee: 0n })]);
  t.equal(b.results[0]!.code, 'TX_BAD_ARGS', 'a set with a duplicate key is refused');
  const inv = await (defaultModules().find((m) => m.name === 'validators')!.invariants!)(
    { get: () => undefined, getValue: () => undefined, has: () => false, entries: async function* () {} },
    { readerOf: () => ({ get: () => undefined, getValue: () => undefined, has: () => false, entries: async function* () {} }) },
  );
  t.same(inv, ['validators: no current set'], 'invariants catch a missing set');
});
