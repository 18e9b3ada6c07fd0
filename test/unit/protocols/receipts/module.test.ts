// The receipts native module on an in-memory chain: storeRootHash, the provable queries (verified with
// protocols/verify.ts), duplicates, front-running, contiguous ranges, stateless bounds, invariants.
import t from 'tap';
import { testChain, testKey, addr, CHAIN_ID, type TestChain } from '../../../utils/chain.js';
import { KeyType, type KeyPair } from '../../../../crypto/keys.js';
import { toHex } from '../../../../lib/hex.js';
import { sha256 } from '../../../../crypto/hash.js';
import { utf8 } from '../../../../lib/hex.js';
import { defaultModules, indexModules } from '../../../../protocols/registry.js';
import { buildModuleTx } from '../../../../protocols/txBuilder.js';
import { runQuery } from '../../../../protocols/query.js';
import { verifyQueryAnswer } from '../../../../protocols/verify.js';
import { scopedReader } from '../../../../protocols/module.js';
import { encode } from '../../../../lib/encoding.js';
import { commitCertificateCodec, headerCodec } from '../../../../state/block.js';
import { signPop } from '../../../../protocols/identity/index.js';
import { receiptsModule, RECEIPTS_ERR, RECEIPTS_MODULE_ID, type AnchorMeta } from '../../../../protocols/receipts/index.js';
import { InvalidMessageError } from '../../../../lib/errors.js';

type T = Pick<typeof t, 'same' | 'pass'>;
const modules = indexModules(defaultModules());
const service = { online: testKey('svc-online', KeyType.p256), offline: testKey('svc-offline', KeyType.p256) };
const thief = { online: testKey('thief-online'), offline: testKey('thief-offline') };
const root = (label: string) => sha256(utf8(label));
const meta = (firstId: number, lastId: number, o: Partial<AnchorMeta> = {}): AnchorMeta => ({ table: 'readings', m: lastId - firstId + 1, n: 4, firstId, lastId, ...o });

const nonces = new Map<string, number>();
function tx(key: KeyPair, module: string, method: string, args: unknown): Uint8Array {
  const k = toHex(addr(key));
  const nonce = nonces.get(k) ?? 0;
  nonces.set(k, nonce + 1);
  return buildModuleTx({ modules, key, chainId: CHAIN_ID, nonce, fee: 0n, module, method, args }).raw;
}
const registerTx = (e: { online: KeyPair; offline: KeyPair }) =>
  tx(e.offline, 'identity', 'submitPublicKey', { addr: toHex(addr(e.online)), keyType: e.online.type, pub: toHex(e.online.publicKey), pop: toHex(signPop(e.online, CHAIN_ID, addr(e.offline))) });
const anchorTx = (key: KeyPair, hash: Uint8Array, m: AnchorMeta) => tx(key, 'receipts', 'storeRootHash', { hash: toHex(hash), meta: m });

async function invariantsHold(t: T, c: TestChain): Promise<void> {
  const v = await receiptsModule.invariants!(scopedReader(c.store, RECEIPTS_MODULE_ID), { readerOf: (id) => scopedReader(c.store, id) });
  t.same(v, [], 'invariants hold');
}

async function provenQuery(t: T, c: TestChain, path: string, args: Record<string, unknown>): Promise<unknown> {
  const answer = await runQuery(c.app, path, args, true);
  const h = answer.height;
  const header = c.app.blocks.block(h)!.header;
  const cert = c.app.blocks.certificate(h)!;
  await verifyQueryAnswer({
    modules,
    validators: c.app.info().validators,
    chainId: CHAIN_ID,
    headerHex: toHex(encode(headerCodec, header)),
    certificateHex: toHex(encode(commitCertificateCodec, cert)),
    path,
    args,
    answer,
  });
  t.pass(`${path} answer verifies against the certified header`);
  return answer.value;
}

t.test('storeRootHash anchors under the identity; verifyRootHash and the batch index are provable', async (t) => {
  nonces.clear();
  const c = await testChain();
  await c.block([registerTx(service)]);
  const b = await c.block([anchorTx(service.online, root('r0'), meta(1, 400))]);
  t.equal(b.results[0]!.code, '', 'anchored');
  const ev = b.results[0]!.events.find((e) => e.module === 'receipts')!;
  t.same(Object.fromEntries(ev.attributes).submitter, toHex(addr(service.offline)), 'the event names the offline identity');
  const v = (await provenQuery(t, c, 'receipts/verifyRootHash', { hash: toHex(root('r0')) })) as Record<string, unknown>;
  t.match(v, { found: true, submitter: toHex(addr(service.offline)), signer: toHex(addr(service.online)), height: b.header.height, time: b.header.time, batch: 0, meta: meta(1, 400) });
  t.equal(v.txHash, toHex(b.txIds[0]!));
  const byWho = (await provenQuery(t, c, 'receipts/verifyRootHash', { hash: toHex(root('r0')), submitter: toHex(addr(service.offline)) })) as Record<string, unknown>;
  t.same(byWho, v);
  const missing = await provenQuery(t, c, 'receipts/verifyRootHash', { hash: toHex(root('nope')) });
  t.same(missing, { found: false, hash: toHex(root('nope')), submitter: null }, 'absence is proven too');
  const head = await provenQuery(t, c, 'receipts/anchorHead', { submitter: toHex(addr(service.offline)), table: 'readings' });
  t.same(head, { submitter: toHex(addr(service.offline)), table: 'readings', count: 1, lastId: 400, lastRoot: toHex(root('r0')) });
  const at = await provenQuery(t, c, 'receipts/anchorAt', { submitter: toHex(addr(service.offline)), table: 'readings', index: 0 });
  t.same(at, v);
  t.same(await provenQuery(t, c, 'receipts/anchorAt', { submitter: toHex(addr(service.offline)), table: 'readings', index: 1 }), { found: false, index: 1 });
  await invariantsHold(t, c);
});

t.test('duplicates, front-running, contiguity and signer rules', async (t) => {
  nonces.clear();
  const c = await testChain();
  await c.block([registerTx(service), registerTx(thief)]);
  await c.block([anchorTx(service.online, root('a'), meta(1, 100))]);
  let b = await c.block([anchorTx(service.online, root('a'), meta(101, 200))]);
  t.equal(b.results[0]!.code, RECEIPTS_ERR.DUPLICATE_ANCHOR, 'the same root twice by one submitter');
  // A front-runner copying the root anchors it under its own identity: it does not become the service's submitter.
  b = await c.block([anchorTx(thief.online, root('b'), meta(1, 100)), anchorTx(service.online, root('b'), meta(101, 200))]);
  t.same(b.results.map((r) => r.code), ['', ''], 'both anchor the same root, each under its own identity');
  const first = (await runQuery(c.app, 'receipts/verifyRootHash', { hash: toHex(root('b')) }, false)).value as Record<string, unknown>;
  t.equal(first.submitter, toHex(addr(thief.offline)), 'without a submitter: the first one');
  const mine = (await runQuery(c.app, 'receipts/verifyRootHash', { hash: toHex(root('b')), submitter: toHex(addr(service.offline)) }, false)).value as Record<string, unknown>;
  t.match(mine, { found: true, submitter: toHex(addr(service.offline)), batch: 1, meta: meta(101, 200) }, 'the service still finds its own anchor');
  b = await c.block([anchorTx(service.online, root('c'), meta(150, 300))]);
  t.equal(b.results[0]!.code, RECEIPTS_ERR.RANGE_NOT_CONTIGUOUS, 'overlapping range refused');
  b = await c.block([anchorTx(service.online, root('c'), meta(202, 300))]);
  t.equal(b.results[0]!.code, RECEIPTS_ERR.RANGE_NOT_CONTIGUOUS, 'a gap is refused');
  b = await c.block([anchorTx(service.online, root('c'), meta(201, 300, { table: 'other' }))]);
  t.equal(b.results[0]!.code, '', 'each table has its own sequence of batches');
  b = await c.block([anchorTx(service.offline, root('d'), meta(201, 300))]);
  t.equal(b.results[0]!.code, 'TX_WRONG_SIGNER_KEY', 'the offline key cannot anchor (online method)');
  const stranger = testKey('stranger');
  b = await c.block([anchorTx(stranger, root('d'), meta(1, 10))]);
  t.equal(b.results[0]!.code, 'TX_WRONG_SIGNER_KEY', 'an unregistered key cannot anchor');
  await invariantsHold(t, c);
});

t.test('stateless bounds of meta', async (t) => {
  const bad: [AnchorMeta, RegExp][] = [
    [meta(1, 10, { m: 0 }), /m must be at least 1/],
    [meta(1, 10, { n: 0 }), /n must be in/],
    [meta(1, 10, { n: 65537 }), /n must be in/],
    [meta(10, 9, { m: 1 }), /below firstId/],
    [meta(1, 10, { m: 11 }), /cannot hold/],
  ];
  for (const [m, re] of bad) {
    t.throws(() => buildModuleTx({ modules, key: service.online, chainId: CHAIN_ID, nonce: 0, fee: 0n, module: 'receipts', method: 'storeRootHash', args: { hash: toHex(root('x')), meta: m } }), { constructor: InvalidMessageError, code: RECEIPTS_ERR.BAD_META, message: re });
  }
  t.throws(() => buildModuleTx({ modules, key: service.online, chainId: CHAIN_ID, nonce: 0, fee: 0n, module: 'receipts', method: 'storeRootHash', args: { hash: toHex(root('x')), meta: meta(1, 10, { table: '../x' }) } }), /table/);
  t.doesNotThrow(() => buildModuleTx({ modules, key: service.online, chainId: CHAIN_ID, nonce: 0, fee: 0n, module: 'receipts', method: 'storeRootHash', args: { hash: toHex(root('x')), meta: meta(1, 20, { m: 10, n: 400 }) } }), 'ids with gaps and n > m are fine');
});
