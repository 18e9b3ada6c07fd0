import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testChain, testKey, addr, transferTx, certify, CHAIN_ID } from '../../utils/chain.js';
import { prng, randInt } from '../../utils/prng.js';
import { LevelKvStore } from '../../../state/kvStore.js';
import { KeyType } from '../../../crypto/keys.js';
import { decodeTx, decodeTxCached, buildTx, encodeTx } from '../../../state/tx.js';
import { encode, decode } from '../../../lib/encoding.js';
import { toHex } from '../../../lib/hex.js';
import { InvalidMessageError } from '../../../lib/errors.js';
import { moduleAddress, FEE_COLLECTOR } from '../../../protocols/bank/index.js';
import { bankModule } from '../../../protocols/bank/index.js';
import { scopedReader } from '../../../protocols/module.js';
import { runQuery } from '../../../protocols/query.js';
import { verifyQueryAnswer } from '../../../protocols/verify.js';
import { headerCodec, commitCertificateCodec, blockHash, type Block } from '../../../state/block.js';
import { transferArgsCodec, accountCodec } from '../../../protocols/bank/codec.js';

const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol', KeyType.p256); // P-256 sender

t.test('a transfer commits; balances, nonce, fee, results, tx index', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]], minFee: 1n });
  const b = await c.block([transferTx(alice, addr(bob), 100n, 0, 2n)]);
  t.equal(b.results[0]!.code, '');
  t.equal(b.results[0]!.events[0]!.type, 'transfer');
  t.equal(c.app.account(addr(alice)).balance, 898n);
  t.equal(c.app.account(addr(alice)).nonce, 1);
  t.equal(c.app.account(addr(bob)).balance, 100n);
  t.equal(c.app.account(moduleAddress(FEE_COLLECTOR)).balance, 2n);
  t.same(c.app.blocks.txLocation(b.txIds[0]!), { height: 1, index: 0 });
  t.equal(c.app.info().height, 1);
});

t.test('a failed tx is included with its error; nonce used and fee charged; state otherwise unchanged', async (t) => {
  const c = await testChain({ funded: [[alice, 50n]], minFee: 1n });
  const b = await c.block([transferTx(alice, addr(bob), 100n, 0, 1n)]);
  t.equal(b.results[0]!.code, 'BANK_INSUFFICIENT_FUNDS');
  t.match(b.results[0]!.message, /insufficient funds/);
  t.same(c.app.account(addr(alice)), { balance: 49n, nonce: 1 });
  t.equal(c.app.account(addr(bob)).balance, 0n);
});

t.test('fees reach the fee collector once per block: every tx pays, failed ones and transfers to the collector included', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n], [carol, 1000n]], minFee: 1n });
  const collector = moduleAddress(FEE_COLLECTOR);
  const b = await c.block([
    transferTx(alice, addr(bob), 100n, 0, 2n),
    transferTx(alice, addr(bob), 10_000n, 1, 3n), // fails: insufficient funds, the fee stays paid
    transferTx(carol, collector, 10n, 0, 1n), // a transfer into the collector adds to the block's fees
    transferTx(carol, addr(bob), 5n, 1, 4n),
  ]);
  t.same(b.results.map((r) => r.code), ['', 'BANK_INSUFFICIENT_FUNDS', '', '']);
  t.equal(c.app.account(collector).balance, 2n + 3n + 1n + 10n + 4n);
  t.same(c.app.account(addr(alice)), { balance: 1000n - 100n - 2n - 3n, nonce: 2 });
  t.same(c.app.account(addr(carol)), { balance: 1000n - 10n - 1n - 5n - 4n, nonce: 2 });
  t.equal(c.app.account(addr(bob)).balance, 105n);
  const next = await c.block([transferTx(alice, addr(bob), 1n, 2, 7n)]);
  t.equal(next.results[0]!.code, '');
  t.equal(c.app.account(collector).balance, 20n + 7n, 'the next block adds its own fees');
});

t.test('admission errors are specific and leave state unchanged', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]], minFee: 5n });
  const root = c.app.info().stateRoot;
  const expectCode = (raw: Uint8Array, code: string, what: string) => {
    try {
      c.app.checkTx(raw);
      t.fail(`${what}: accepted`);
    } catch (e) {
      t.type(e, InvalidMessageError, what);
      t.equal((e as InvalidMessageError).code, code, what);
    }
  };
  expectCode(transferTx(alice, addr(bob), 1n, 0, 5n, 'other-chain'), 'TX_WRONG_CHAIN_ID', 'wrong chain id');
  expectCode(transferTx(alice, addr(bob), 1n, 0, 4n), 'TX_FEE_TOO_LOW', 'fee below minimum');
  expectCode(transferTx(bob, addr(alice), 1n, 0, 5n), 'TX_INSUFFICIENT_FEE_BALANCE', 'cannot pay the fee');
  const good = transferTx(alice, addr(bob), 1n, 0, 5n);
  const tampered = new Uint8Array(good);
  tampered[tampered.length - 1]! ^= 1;
  expectCode(tampered, 'TX_BAD_SIGNATURE', 'bad signature');
  expectCode(new Uint8Array([0x93, 1, 2, 3]), 'ENCODING_INVALID', 'malformed bytes');
  expectCode(new Uint8Array(70_000), 'TOO_LARGE', 'oversized');
  // high-s twin of a valid signature
  const d = decodeTx(good);
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const s = BigInt(toHex(d.signature.subarray(32)));
  const sig = new Uint8Array(d.signature);
  sig.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  expectCode(encodeTx({ body: d.body, signature: sig }), 'TX_HIGH_S_SIGNATURE', 'high-s signature');
  t.same(c.app.info().stateRoot, root, 'state root unchanged');
  await c.block([good]);
  expectCode(good, 'TX_BAD_NONCE', 'replayed nonce');
});

t.test('unknown module or method and bad args fail in the block with specific codes', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]] });
  const mk = (nonce: number, moduleId: number, methodId: number, args: Uint8Array) => buildTx(alice, { chainId: CHAIN_ID, nonce, moduleId, methodId, args, fee: 0n });
  const args = encode(transferArgsCodec, { to: addr(bob), amount: 1n });
  const b = await c.block([mk(0, 99, 1, args), mk(1, 1, 99, args), mk(2, 1, 1, new Uint8Array([1])), mk(3, 1, 1, encode(transferArgsCodec, { to: addr(bob), amount: 0n }))]);
  t.same(b.results.map((r) => r.code), ['TX_UNKNOWN_MODULE', 'TX_UNKNOWN_METHOD', 'TX_BAD_ARGS', 'TX_BAD_ARGS']);
  t.equal(c.app.account(addr(alice)).nonce, 4);
  t.equal(c.app.account(addr(bob)).balance, 0n);
});

t.test('prepareProposal drops what cannot be included; processProposal rejects tampered blocks', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]] });
  const info = c.app.info();
  c.clock.now += 1000;
  const p = await c.app.prepareProposal({
    height: 1,
    time: c.clock.now,
    proposer: new Uint8Array(20),
    txs: [transferTx(alice, addr(bob), 1n, 5), transferTx(alice, addr(bob), 1n, 0), transferTx(alice, addr(bob), 1n, 0)],
  });
  t.equal(p.block.txs.length, 1, 'gap nonce and duplicate dropped');
  t.equal(p.dropped.length, 2);
  const tamper = async (f: (b: Block) => Block, reason: RegExp, what: string) => {
    const r = await c.app.processProposal(f(structuredClone(p.block)));
    t.notOk(r.accept, what);
    if (!r.accept) t.match(r.reason, reason, what);
  };
  await tamper((b) => ({ ...b, header: { ...b.header, stateRoot: new Uint8Array(32) } }), /state root/, 'state root');
  await tamper((b) => ({ ...b, header: { ...b.header, resultsRoot: new Uint8Array(32) } }), /results root/, 'results root');
  await tamper((b) => ({ ...b, txs: [] }), /tx root/, 'tx removed');
  await tamper((b) => ({ ...b, header: { ...b.header, prevHash: new Uint8Array(32).fill(1) } }), /previous hash/, 'prev hash');
  await tamper((b) => ({ ...b, header: { ...b.header, time: info.headTime } }), /not after/, 'time not after parent');
  await tamper((b) => ({ ...b, header: { ...b.header, time: c.clock.now + 60_000 } }), /too far ahead/, 'time in the future');
  await tamper((b) => ({ ...b, header: { ...b.header, height: 2 } }), /height/, 'height');
  const bad = transferTx(alice, addr(bob), 1n, 7);
  await tamper((b) => ({ ...b, txs: [bad] }), /tx root|nonce/, 'a tx that cannot be included');
  const ok = await c.app.processProposal(p.block);
  t.ok(ok.accept, 'the real block is accepted');
  const committed = await c.app.commit(p.block, certify(c.validator, 1, p.hash));
  t.same(committed.hash, blockHash(p.block.header));
});

t.test('conservation: random transfers keep balances + escrows = supply (seeded)', async (t) => {
  const users = Array.from({ length: 6 }, (_, i) => testKey(`user-${i}`, i % 2 ? KeyType.p256 : KeyType.secp256k1));
  const c = await testChain({ funded: users.map((u) => [u, 10_000n] as [typeof u, bigint]), minFee: 1n });
  const rand = prng(42);
  const nonces = users.map(() => 0);
  for (let h = 0; h < 15; h++) {
    const txs: Uint8Array[] = [];
    for (let k = 0; k < 10; k++) {
      const i = randInt(rand, users.length);
      let j = randInt(rand, users.length);
      if (j === i) j = (j + 1) % users.length;
      txs.push(transferTx(users[i]!, addr(users[j]!), BigInt(randInt(rand, 4000)), nonces[i]!++, BigInt(1 + randInt(rand, 3))));
    }
    const b = await c.block(txs);
    t.equal(b.txIds.length, 10, `block ${h + 1} includes every tx`);
    const violations = await bankModule.invariants!(scopedReader(c.store, 1), { readerOf: (id) => scopedReader(c.store, id) });
    t.same(violations, [], `invariants after block ${h + 1}`);
  }
  const total = users.reduce((s, u) => s + c.app.account(addr(u)).balance, 0n) + c.app.account(moduleAddress(FEE_COLLECTOR)).balance;
  t.equal(total, 60_000n);
});

t.test('proven query: verifies against header + certificate + genesis validators; tampering is caught', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n], [carol, 5n]] });
  const b = await c.block([transferTx(alice, addr(bob), 10n, 0)]);
  const base = {
    modules: c.app.modules,
    validators: c.app.genesis.validators,
    chainId: CHAIN_ID,
    headerHex: toHex(encode(headerCodec, b.header)),
    certificateHex: toHex(encode(commitCertificateCodec, b.certificate)),
  };
  for (const who of [bob, carol, testKey('nobody')]) {
    const args = { address: toHex(addr(who)) };
    const answer = await runQuery(c.app, 'bank/balance', args, true);
    const h = await verifyQueryAnswer({ ...base, path: 'bank/balance', args, answer });
    t.equal(h.height, 1);
  }
  const args = { address: toHex(addr(bob)) };
  const answer = await runQuery(c.app, 'bank/balance', args, true);
  t.same(answer.value, { balance: '10', nonce: 0 });
  await t.rejects(verifyQueryAnswer({ ...base, path: 'bank/balance', args, answer: { ...answer, value: { balance: '11', nonce: 0 } } }), /differs/, 'lying value');
  const rec = answer.proof!.records[0]!;
  await t.rejects(
    verifyQueryAnswer({ ...base, path: 'bank/balance', args, answer: { ...answer, proof: { records: [{ ...rec, value: toHex(encode(accountCodec, { balance: 10n, nonce: 1 })) }] } } }),
    /does not verify|differs|non-canonical|ENCODING|leading/,
    'lying record',
  );
  await t.rejects(verifyQueryAnswer({ ...base, path: 'bank/balance', args, answer: { ...answer, proof: { records: [] } } }), /did not prove/, 'missing record');
  const otherCert = certify(testKey('mallory', 1), 1, b.hash);
  await t.rejects(verifyQueryAnswer({ ...base, certificateHex: toHex(encode(commitCertificateCodec, otherCert)), path: 'bank/balance', args, answer }), /certificate/, 'certificate by a non-validator');
  await t.rejects(runQuery(c.app, 'bank/nope', {}, false), /no query/);
  await t.rejects(runQuery(c.app, 'nomodule/x', {}, false), /unknown module/);
  await t.rejects(runQuery(c.app, 'bank/balance', { address: '0x12' }, false), /address/);
});

t.test('restart from LevelDB resumes with every block, result and balance', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-app-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let store = await LevelKvStore.open(dir);
  let c = await testChain({ funded: [[alice, 1000n]], store });
  for (let i = 0; i < 5; i++) await c.block([transferTx(alice, addr(bob), 1n, i)]);
  const before = c.app.info();
  await store.close();
  store = await LevelKvStore.open(dir);
  c = await testChain({ funded: [[alice, 1000n]], store });
  const after = c.app.info();
  t.equal(after.height, 5);
  t.same(after.headHash, before.headHash);
  t.same(after.stateRoot, before.stateRoot);
  t.equal(c.app.account(addr(bob)).balance, 5n);
  t.equal(c.app.blocks.results(3)!.length, 1);
  await c.block([transferTx(alice, addr(bob), 1n, 5)]);
  t.equal(c.app.account(addr(bob)).balance, 6n);
  await store.close();
});

void decode;

t.test('a long non-ASCII error message is cut to the result limit without breaking the block', async (t) => {
  const { truncateUtf8 } = await import('../../../lib/encoding.js');
  const { eventOf } = await import('../../../protocols/module.js');
  const ev = eventOf('m', 't', { big: new Uint8Array(4000), ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])) });
  t.equal(ev.attributes.length, 32, 'at most 32 attributes');
  t.equal(ev.attributes[0]![1].length, 1024, 'a long value is cut to 1024 bytes');
  const long = '≤'.repeat(400);
  const cut = truncateUtf8(long, 512);
  t.ok(Buffer.byteLength(cut) <= 512);
  t.equal(cut, '≤'.repeat(170));
  t.equal(truncateUtf8('short', 512), 'short');
});

t.test('admission reads committed accounts through a cache that every commit clears', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]], minFee: 1n });
  // read alice (nonce 0) and a not-yet-funded bob into the cache before the block
  t.equal(c.app.account(addr(alice)).nonce, 0);
  t.equal(c.app.account(addr(bob)).balance, 0n);
  c.app.checkTx(transferTx(alice, addr(bob), 10n, 0, 1n));
  await c.block([transferTx(alice, addr(bob), 600n, 0, 1n)]);
  t.equal(c.app.account(addr(alice)).nonce, 1, 'the commit is visible: nonce moved on');
  t.equal(c.app.account(addr(bob)).balance, 600n, 'the commit is visible: the recipient was credited');
  t.throws(() => c.app.checkTx(transferTx(alice, addr(bob), 10n, 0, 1n)), { code: 'TX_BAD_NONCE' }, 'nonce 0 is used now');
  t.throws(() => c.app.checkTx(transferTx(bob, addr(alice), 10n, 0, 700n)), { code: 'TX_INSUFFICIENT_FEE_BALANCE' }, "bob's new balance is what admission sees");
  t.ok(c.app.checkTx(transferTx(bob, addr(alice), 10n, 0, 1n)), 'and it admits what that balance pays for');
  t.throws(() => {
    const a = c.app.account(addr(alice)) as { nonce: number };
    a.nonce = 99;
  }, TypeError, 'a cached account cannot be changed by a caller');
});

t.test('a commit drops its txs from the decoded-tx cache; pending txs stay cached', async (t) => {
  const c = await testChain({ funded: [[alice, 1000n]], minFee: 1n });
  const [first, second] = [transferTx(alice, addr(bob), 10n, 0, 1n), transferTx(alice, addr(bob), 10n, 1, 1n)];
  const admitted = c.app.checkTx(first);
  const pending = c.app.checkTx(second);
  t.equal(decodeTxCached(first), admitted, 'admission cached the decode');
  await c.block([first]);
  t.not(decodeTxCached(first), admitted, 'the committed tx was forgotten (decoded afresh)');
  t.equal(decodeTxCached(second), pending, 'the pending one is still cached');
});
