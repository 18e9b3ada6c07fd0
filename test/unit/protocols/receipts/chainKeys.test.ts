// SPEC §5.1 against the real chain: "a signature by an online key revoked at height H is accepted by
// the auditor only for rows anchored before H". An in-process node (initHome + createNode, 50 ms
// empty blocks, stopped in teardown): an identity registers its online key, rows countersigned by it
// are ingested and anchored; the identity rotates its key (identity/updatePublicKey at height H);
// more rows still countersigned by the OLD key are ingested and anchored (by the new key). The
// auditor, reading the identity's key history as proven identity/keyHistory answers, accepts the
// first rows and refuses the later ones, naming the key and the height. A key directory alone cannot
// know of the revocation and accepts all of them.
import t from 'tap';
import { join } from 'node:path';
import { toHex, utf8 } from '../../../../lib/hex.js';
import { sha256 } from '../../../../crypto/hash.js';
import { KeyType, addressOf, keyPairFromPrivate } from '../../../../crypto/keys.js';
import { loadGenesis } from '../../../../node/config.js';
import { buildModuleTx } from '../../../../protocols/txBuilder.js';
import { defaultModules, indexModules } from '../../../../protocols/registry.js';
import { signPop } from '../../../../protocols/identity/index.js';
import { LevelDataStore } from '../../../../protocols/receipts/levelDataStore.js';
import { ingestReadings } from '../../../../protocols/receipts/ingest.js';
import { AnchorDaemon } from '../../../../protocols/receipts/anchorDaemon.js';
import { ReceiptDir } from '../../../../protocols/receipts/receiptDir.js';
import { AnchorView, BundleProofSource, RpcProofSource, type Trust } from '../../../../protocols/receipts/auditView.js';
import { audit, signersOf } from '../../../../protocols/receipts/auditor.js';
import { ChainKeyHistory, MapKeyHistory, historyOf, type KeyHistoryJson } from '../../../../protocols/receipts/keyHistory.js';
import type { Row } from '../../../../protocols/receipts/rows.js';
import { entity, register, startNode, tempDir } from './fixture.js';

const svc = entity('chainkeys-service');
const newOnline = keyPairFromPrivate(KeyType.p256, sha256(utf8('iotchain receipts test/chainkeys-service/online-2')));

t.test('the auditor takes key histories from the chain: a revoked key counts only for rows anchored before the revocation', async (t) => {
  const n = await startNode(t);
  await register(n, svc);
  const dir = await tempDir(t);
  const store = new LevelDataStore(join(dir, 'db'));
  t.teardown(() => store.close());
  const receipts = new ReceiptDir(join(dir, 'receipts'));
  const oldAddr = toHex(addressOf(svc.online.type, svc.online.publicKey));

  // Batch 0 and 1: rows 1..10, countersigned by the service's registered online key, anchored by it.
  const first = await ingestReadings({ store, table: 'main', count: 10, service: svc.online, identity: svc.identity, devices: 3 });
  const before = await new AnchorDaemon({ store, table: 'main', m: 5, n: 2, key: svc.online, identity: svc.identity, client: n.client, receipts }).runOnce();
  t.equal(before.length, 2);

  // identity/updatePublicKey, signed by the offline key: the old key's history entry ends at H.
  const tx = buildModuleTx({
    modules: indexModules(defaultModules()),
    key: svc.offline,
    chainId: n.chainId,
    nonce: (await n.client.getAccount(toHex(svc.identity))).nonce,
    fee: 0n,
    module: 'identity',
    method: 'updatePublicKey',
    args: { addr: toHex(addressOf(newOnline.type, newOnline.publicKey)), keyType: newOnline.type, pub: toHex(newOnline.publicKey), pop: toHex(signPop(newOnline, n.chainId, svc.identity)) },
  });
  await n.client.sendTx(tx.raw);
  const st = await n.client.waitForTx(tx.hash);
  t.equal(st.status, 'committed', 'updatePublicKey committed');
  const H = st.height!;
  t.ok(before.every((b) => b.height < H), 'the first batches were anchored before the revocation');
  const hist = (await n.client.query('identity/keyHistory', { addr: toHex(svc.identity) })).value as KeyHistoryJson;
  t.match(hist.entries, [{ online: oldAddr, to: H }, { from: H, to: null }]);

  // Batches 2 and 3: rows 11..20, still countersigned by the OLD key (a service that kept using it),
  // anchored by the new key (the old one can no longer sign transactions).
  await ingestReadings({ store, table: 'main', count: 10, service: svc.online, identity: svc.identity, devices: 3 });
  const after = await new AnchorDaemon({ store, table: 'main', m: 5, n: 2, key: newOnline, identity: svc.identity, client: n.client, receipts }).runOnce();
  t.same(after.map((b) => [b.firstId, b.lastId]), [[11, 15], [16, 20]]);
  t.ok(after.every((b) => b.height >= H), 'anchored at or after the revocation');
  // Batch 4: rows 21..25 countersigned by the NEW key, which the key directory has never heard of.
  // (ingest derives its synthetic devices and gateways from the service's key: new key, new devices.)
  const third = await ingestReadings({ store, table: 'main', count: 5, service: newOnline, identity: svc.identity, devices: 3 });
  const latest = await new AnchorDaemon({ store, table: 'main', m: 5, n: 2, key: newOnline, identity: svc.identity, client: n.client, receipts }).runOnce();
  t.equal(latest.length, 1);

  const rows: Row[] = [];
  for await (const r of store.scan('main')) rows.push(r);
  const rc = (await receipts.receipts('main')).receipts.map((x) => x.receipt);
  const genesis = await loadGenesis(n.genesisFile);
  const trust: Trust = { chainId: genesis.chainId, validators: genesis.validators, source: 'genesis-file' };
  const source = new RpcProofSource(n.client, trust);
  const view = new AnchorView(source);
  // Devices, gateways, and the service's keys, as `data ingest` records them: no heights, no revocation.
  const directory = historyOf([...first.directory, ...third.directory]);
  const registeredAt = hist.entries[0]!.from;

  t.test('with the chain: rows anchored before H pass, rows anchored from H on are refused, naming the key and H', async (t) => {
    const chainKeys = new ChainKeyHistory(source, directory);
    const r = await audit([{ table: 'main', rows, receipts: rc }], { view, keys: chainKeys });
    t.ok(r.subTables.every((s) => s.status === 'OK'), 'every sub-table matches its anchor');
    t.equal(r.signatures.keys, 'chain');
    t.same(r.signatures.failures.map((f) => f.id), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 'exactly the rows signed by the old key and anchored after its revocation');
    for (const f of r.signatures.failures) {
      t.match(f, {
        reason: 'revoked-key',
        signer: { role: 'service', address: toHex(svc.identity) },
        key: { online: oldAddr, revokedAt: H, from: registeredAt },
        detail: new RegExp(`signed with online key ${oldAddr}, revoked at height ${H}; the row was anchored at height ${f.anchoredAt}`),
      });
      t.ok(f.anchoredAt! >= H);
    }
    t.notOk(r.ok);
    t.ok(chainKeys.onChain(svc.identity), "the service's identity history came from the chain");
    t.notOk(chainKeys.onChain(rows[0]!.kind === 'reading' ? rows[0]!.envelope.reading.deviceId : svc.identity), 'devices are not on chain: the directory serves them');
  });

  t.test('the same from a proof bundle (offline), and a forged history answer fails its proof', async (t) => {
    const recorder = new RpcProofSource(n.client, trust);
    await audit([{ table: 'main', rows, receipts: rc }], { view: new AnchorView(recorder), keys: new ChainKeyHistory(recorder, directory) });
    const bundle = recorder.bundle();
    t.ok(bundle.answers.some((a) => a.path === 'identity/keyHistory'), 'the bundle holds the proven key histories');
    const offline = new BundleProofSource(bundle, trust);
    const r = await audit([{ table: 'main', rows, receipts: rc }], { view: new AnchorView(offline), keys: new ChainKeyHistory(offline, directory) });
    t.same(r.signatures.failures.map((f) => [f.id, f.reason]), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map((id) => [id, 'revoked-key']));
    // Someone hands the auditor a bundle in which the old key was never revoked.
    const forged = JSON.parse(JSON.stringify(bundle)) as typeof bundle;
    const ans = forged.answers.find((a) => a.path === 'identity/keyHistory' && (a.args as { addr: string }).addr === toHex(svc.identity))!;
    for (const e of (ans.answer.value as KeyHistoryJson).entries) e.to = null;
    const bad = new BundleProofSource(forged, trust);
    await t.rejects(audit([{ table: 'main', rows, receipts: rc }], { view: new AnchorView(bad), keys: new ChainKeyHistory(bad, directory) }), { code: 'PROOF_INVALID' });
  });

  t.test('a key directory alone does not know of the revocation', async (t) => {
    const r = await audit([{ table: 'main', rows, receipts: rc }], { view, keys: directory });
    t.same(
      r.signatures.failures.map((f) => [f.id, f.reason]),
      [21, 22, 23, 24, 25].map((id) => [id, 'bad-signature']),
      'it lists both keys without heights: the old one counts for every row (11..20 pass), the new one never',
    );
  });

  t.test('a key used before the height it counts from is named too', async (t) => {
    // A history in which the old key counts only from H up to batch 4's height, the new key from there
    // on: rows 1..10, anchored before H, were signed with a key not valid yet.
    const h4 = latest[0]!.height;
    const early = new MapKeyHistory();
    for (const e of first.directory) early.add(e.address, { type: e.type, publicKey: e.publicKey, ...(e.role === 'service' ? { from: H, revokedAt: h4 } : {}) });
    for (const e of third.directory) early.add(e.address, { type: e.type, publicKey: e.publicKey, ...(e.role === 'service' ? { from: h4 } : {}) });
    const r = await audit([{ table: 'main', rows, receipts: rc }], { view, keys: early });
    t.same(r.signatures.failures.map((f) => f.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    t.match(r.signatures.failures[0], { reason: 'key-not-yet-valid', key: { online: oldAddr, from: H, revokedAt: h4 }, detail: new RegExp(`valid only from height ${H}`) });
  });

  t.test('every signer must have been looked up on chain', async (t) => {
    const chainKeys = new ChainKeyHistory(source, directory);
    t.throws(() => chainKeys.keysOf(svc.identity), { code: 'NOT_FOUND' });
    await chainKeys.prepare(signersOf(rows.slice(0, 1)));
    t.equal(chainKeys.keysOf(svc.identity).length, 2, 'both keys of the identity, from the chain');
    t.equal(chainKeys.provenAt(svc.identity)! >= H, true);
  });
});
