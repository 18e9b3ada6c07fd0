// protocols/txBuilder.ts (kept beside the CLI tests that use it).
import t from 'tap';
import { buildModuleTx, resolveMethod, type BuildModuleTxInput } from '../../../protocols/txBuilder.js';
import { defaultModules, indexModules } from '../../../protocols/registry.js';
import { decodeTx, checkTxStateless } from '../../../state/tx.js';
import { decode } from '../../../lib/encoding.js';
import { toHex } from '../../../lib/hex.js';
import { KeyType } from '../../../crypto/keys.js';
import { transferArgsCodec } from '../../../protocols/bank/codec.js';
import { testKey, addr } from '../../utils/chain.js';

const modules = indexModules(defaultModules());
const alice = testKey('alice');
const bob = testKey('bob');

function input(over: Partial<BuildModuleTxInput> = {}): BuildModuleTxInput {
  return {
    modules,
    key: alice,
    chainId: 'test-chain',
    nonce: 7,
    fee: 3n,
    module: 'bank',
    method: 'transfer',
    args: { to: toHex(addr(bob)), amount: '12345678901234567890123' },
    ...over,
  };
}

t.test('round trip: the tx decodes to the module/method ids, fields and args given', async (t) => {
  for (const key of [alice, testKey('carol', KeyType.p256)]) {
    const { raw, hash } = buildModuleTx(input({ key }));
    const tx = checkTxStateless(raw, 'test-chain');
    t.equal(tx.idHex, hash, 'hash is the tx id');
    t.equal(tx.body.moduleId, 1);
    t.equal(tx.body.methodId, 1);
    t.equal(tx.body.nonce, 7);
    t.equal(tx.body.fee, 3n);
    t.equal(tx.body.chainId, 'test-chain');
    t.equal(tx.body.keyType, key.type);
    t.same(tx.sender, addr(key));
    const args = decode(transferArgsCodec, tx.body.args, 'args');
    t.same(args.to, addr(bob));
    t.equal(args.amount, 12345678901234567890123n);
  }
  // numbers are accepted where the codec accepts them; the encoding is the same canonical one
  const a = buildModuleTx(input({ args: { to: toHex(addr(bob)), amount: 5 } }));
  const b = buildModuleTx(input({ args: { to: toHex(addr(bob)), amount: '5' } }));
  t.same(decodeTx(a.raw).body.args, decodeTx(b.raw).body.args);
});

t.test('unknown module or method lists the valid ones', async (t) => {
  t.throws(() => buildModuleTx(input({ module: 'nope' })), { name: 'InvalidMessageError', code: 'TX_UNKNOWN_MODULE', message: /unknown module "nope".*bank/ }, 'unknown module');
  t.throws(() => buildModuleTx(input({ method: 'mint' })), { name: 'InvalidMessageError', code: 'TX_UNKNOWN_METHOD', message: /no method "mint".*transfer/ }, 'unknown method');
  t.throws(() => resolveMethod(modules, 'bank', 'constructor'), { name: 'InvalidMessageError', code: 'TX_UNKNOWN_METHOD', message: /constructor/ }, 'inherited property is not a method');
  t.throws(() => resolveMethod(modules, 'toString', 'x'), { name: 'InvalidMessageError', code: 'TX_UNKNOWN_MODULE', message: /toString/ }, 'inherited property is not a module');
});

t.test('bad args are InvalidMessageErrors naming the field', async (t) => {
  const to = toHex(addr(bob));
  t.throws(() => buildModuleTx(input({ args: { to } })), { name: 'InvalidMessageError', code: 'TX_BAD_ARGS', message: /bank\/transfer.*amount/ }, 'missing field');
  t.throws(() => buildModuleTx(input({ args: { to, amount: '1', memo: 'x' } })), { name: 'InvalidMessageError', code: 'TX_BAD_ARGS', message: /unknown field "memo"/ }, 'extra field');
  t.throws(() => buildModuleTx(input({ args: { to: '0x1234', amount: '1' } })), { name: 'InvalidMessageError', code: 'TX_BAD_ARGS', message: /args\.to/ }, 'short address');
  t.throws(() => buildModuleTx(input({ args: { to, amount: '-1' } })), { name: 'InvalidMessageError', code: 'TX_BAD_ARGS', message: /amount/ }, 'negative amount');
  t.throws(() => buildModuleTx(input({ args: { to, amount: '1.5' } })), { name: 'InvalidMessageError', code: 'TX_BAD_ARGS', message: /amount/ }, 'fractional amount');
  t.throws(() => buildModuleTx(input({ args: [to, '1'] })), { name: 'InvalidMessageError', code: 'TX_BAD_ARGS', message: /object/ }, 'array instead of object');
  t.throws(() => buildModuleTx(input({ args: null })), { name: 'InvalidMessageError', code: 'TX_BAD_ARGS', message: /object/ }, 'null');
  t.throws(() => buildModuleTx(input({ args: { to, amount: '0' } })), { name: 'InvalidMessageError', code: 'BANK_ZERO_AMOUNT', message: /bank\/transfer.*positive/ }, 'validateBasic runs');
});

t.test('bad envelope fields', async (t) => {
  t.throws(() => buildModuleTx(input({ nonce: -1 })), { name: 'InvalidMessageError', code: 'TX_BAD_NONCE', message: /nonce/ }, 'negative nonce');
  t.throws(() => buildModuleTx(input({ nonce: 1.5 })), { name: 'InvalidMessageError', code: 'TX_BAD_NONCE', message: /nonce/ }, 'fractional nonce');
  t.throws(() => buildModuleTx(input({ fee: -1n })), { name: 'InvalidMessageError', code: 'ENCODING_INVALID', message: /fee/ }, 'negative fee');
  t.throws(() => buildModuleTx(input({ chainId: 'Bad Chain' })), { name: 'InvalidMessageError', code: 'ENCODING_INVALID', message: /chain id/ }, 'bad chain id');
});
