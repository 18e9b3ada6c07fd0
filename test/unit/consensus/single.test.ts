// The single-validator driver certifies blocks alone only while the set in force is exactly its
// key: after a validator-set change approved on a 1-validator chain takes effect, it refuses to
// produce (a 1-of-N certificate would be invalid) and says to restart with PBFT.
import t from 'tap';
import { SingleValidator } from '../../../consensus/single.js';
import { App } from '../../../protocols/app.js';
import { defaultModules, indexModules } from '../../../protocols/registry.js';
import { Mempool } from '../../../mempool/mempool.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { validatorSetCodec, verifyCommit, type Validator } from '../../../state/block.js';
import { buildModuleTx } from '../../../protocols/txBuilder.js';
import { KeyType } from '../../../crypto/keys.js';
import { testGenesis, testKey, CHAIN_ID, GENESIS_TIME } from '../../utils/chain.js';

const me = testKey('single-me', KeyType.p256);
const other = testKey('single-other', KeyType.p256);

t.test('after the set grows to 2, the single-validator driver stops with CONSENSUS_SET_CHANGED', async (t) => {
  const genesis = testGenesis({ validator: me });
  let now = GENESIS_TIME + 1000;
  const app = await App.open({ store: new MemoryKvStore(), genesis, modules: defaultModules(), now: () => now });
  const mempool = new Mempool({ checkTx: (raw) => app.checkTx(raw), nonceOf: (s) => app.account(s).nonce });
  const driver = new SingleValidator({ app, txs: mempool, key: me, maxBlockTxs: 100, maxBlockBytes: 1 << 20, now: () => (now += 1000) });

  const b1 = await driver.produce([]);
  t.same(verifyCommit(app.genesis.validators, b1.header, app.blocks.certificate(1)!), { ok: true }, 'a 1-of-1 certificate while alone');

  const two: Validator[] = [
    { name: 'v0', consensusKey: me.publicKey, peerId: '', power: 1 },
    { name: 'v1', consensusKey: other.publicKey, peerId: '', power: 1 },
  ];
  const propose = buildModuleTx({ modules: indexModules(defaultModules()), key: me, chainId: CHAIN_ID, nonce: 0, fee: 0n, module: 'validators', method: 'propose', args: { validators: validatorSetCodec.toJson(two) } }).raw;
  const approved = await driver.produce([propose]);
  t.equal(approved.results[0]!.code, '', 'quorum(1) = 1: the proposal passes at once');
  await driver.produce([]); // approvedAt + 1: still the old set; its end-of-block switches
  t.equal(app.info().validators.length, 2, 'the 2-member set is in force for the next block');
  const height = app.info().height;
  await t.rejects(driver.produce([]), { code: 'CONSENSUS_SET_CHANGED', message: /2 members.*the node runs PBFT with them/ });
  t.equal(app.info().height, height, 'no block certified alone under the new set');
  t.throws(() => new SingleValidator({ app, txs: mempool, key: me, maxBlockTxs: 100, maxBlockBytes: 1 << 20 }), { code: 'CONSENSUS_SET_CHANGED' }, 'and it refuses to start again');
});
