// The auditor against a real node: a clean table passes; each kind of tampering is named with exactly
// the sub-table (and id range) it touched; chains of signatures are checked (wrong key, replay,
// revoked key by anchoring height); offline mode with a proof bundle and the genesis validator set.
import t from 'tap';
import { join } from 'node:path';
import { toHex, utf8 } from '../../../../lib/hex.js';
import { sha256 } from '../../../../crypto/hash.js';
import { KeyType, keyPairFromPrivate } from '../../../../crypto/keys.js';
import { loadGenesis } from '../../../../node/config.js';
import { LevelDataStore } from '../../../../protocols/receipts/levelDataStore.js';
import { ingestReadings, syntheticReading, syntheticSigners, fastChainSigner } from '../../../../protocols/receipts/ingest.js';
import { AnchorDaemon } from '../../../../protocols/receipts/anchorDaemon.js';
import { ReceiptDir } from '../../../../protocols/receipts/receiptDir.js';
import { MerkleLevels, subTableLeaf, type Receipt } from '../../../../protocols/receipts/merkleReceipt.js';
import { AnchorView, BundleProofSource, RpcProofSource, type Trust } from '../../../../protocols/receipts/auditView.js';
import { audit, type AuditReport } from '../../../../protocols/receipts/auditor.js';
import { MapKeyHistory, historyOf, type DirectoryEntry } from '../../../../protocols/receipts/keyHistory.js';
import { countersignReading, signReading } from '../../../../protocols/receipts/signatureChain.js';
import type { Row } from '../../../../protocols/receipts/rows.js';
import { entity, register, startNode, tempDir } from './fixture.js';

const svc = entity('audit-service');
const thief = entity('audit-thief');

const tampered = (r: AuditReport) => r.subTables.filter((s) => s.status !== 'OK').map((s) => `${s.firstId}..${s.lastId} ${s.reason}`);

t.test('auditor', async (t) => {
  const n = await startNode(t);
  await register(n, svc);
  await register(n, thief);
  const dir = await tempDir(t);
  const store = new LevelDataStore(join(dir, 'db'));
  t.teardown(() => store.close());
  const receiptDir = new ReceiptDir(join(dir, 'receipts'));
  // main: 40 rows in two batches of 20 (m = 20, n = 4: sub-tables of 5 rows), then 3 rows not anchored yet.
  const ing = await ingestReadings({ store, table: 'main', count: 40, service: svc.online, identity: svc.identity, devices: 4 });
  await new AnchorDaemon({ store, table: 'main', m: 20, n: 4, key: svc.online, identity: svc.identity, client: n.client, receipts: receiptDir }).runOnce();
  await ingestReadings({ store, table: 'main', count: 3, service: svc.online, identity: svc.identity, devices: 4 });
  const rows: Row[] = [];
  for await (const r of store.scan('main')) rows.push(r);
  const receipts: Receipt[] = (await receiptDir.receipts('main')).receipts.map((x) => x.receipt);
  t.equal(receipts.length, 8);
  const keys = historyOf(ing.directory);
  const genesis = await loadGenesis(n.genesisFile);
  const trust: Trust = { chainId: genesis.chainId, validators: genesis.validators, source: 'genesis-file' };
  const rpcSource = new RpcProofSource(n.client, trust);
  const view = new AnchorView(rpcSource);
  const run = (rs: readonly Row[], rc: readonly Receipt[] = receipts, extra: { submitter?: Uint8Array; keys?: MapKeyHistory } = {}) =>
    audit([{ table: 'main', rows: rs, receipts: rc }], { view, keys: extra.keys ?? keys, ...(extra.submitter ? { submitter: extra.submitter } : {}) });
  /** Rows i and j keep their ids and exchange everything else. */
  const swapContents = (rs: Row[], i: number, j: number) => {
    const c = [...rs];
    const a = c[i]!;
    const b = c[j]!;
    c[i] = { ...b, id: a.id } as Row;
    c[j] = { ...a, id: b.id } as Row;
    return c;
  };
  const swap = (rs: Row[], i: number, j: number) => {
    const c = [...rs];
    [c[i], c[j]] = [c[j]!, c[i]!];
    return c;
  };

  t.test('a clean export passes; rows not anchored yet are reported, not failed', async (t) => {
    const r = await run(rows);
    t.ok(r.ok);
    t.equal(r.subTables.length, 8);
    t.ok(r.subTables.every((s) => s.status === 'OK'));
    t.match(r.tables[0], { table: 'main', batches: 2, lastAnchoredId: 40, rows: 43, submitter: toHex(svc.identity), pending: { count: 3, firstId: 41, lastId: 43 } });
    t.match(r.signatures, { checked: true, rows: 43, failures: [] });
    t.equal(r.trust, 'genesis-file');
  });

  t.test('a modified row: its sub-table, and its broken device signature', async (t) => {
    const row = rows[26]! as Extract<Row, { kind: 'reading' }>;
    const forged: Row = { ...row, envelope: { ...row.envelope, reading: { ...row.envelope.reading, data: utf8('t=99.99;h=0.0') } } };
    const r = await run(rows.map((x) => (x === row ? forged : x)));
    t.notOk(r.ok);
    t.same(tampered(r), ['26..30 rows-differ'], 'exactly rows 26..30 (batch 1, sub-table 1)');
    t.match(r.signatures.failures, [{ id: 27, reason: 'bad-signature', signer: { role: 'device', index: 0 } }]);
  });

  t.test('a deleted row, an inserted row, swapped rows', async (t) => {
    let r = await run(rows.filter((x) => x.id !== 13));
    t.same(tampered(r), ['11..15 rows-differ']);
    t.match(r.subTables.find((s) => s.status !== 'OK'), { rows: 4, expectedRows: 5, detail: /1 row\(s\) missing/ });
    const signers = syntheticSigners(svc.online, 4, 2, svc.identity);
    const extra: Row = { ...syntheticReading(signers, 1000), id: 8, table: 'main' } as Row;
    r = await run([...rows.slice(0, 8), extra, ...rows.slice(8)]);
    t.same(tampered(r), ['6..10 rows-differ']);
    t.match(r.subTables.find((s) => s.status !== 'OK'), { detail: /1 row\(s\) added/ });
    r = await run(swapContents(rows, 2, 3));
    t.same(tampered(r), ['1..5 rows-differ'], 'two rows swapped inside one sub-table');
    r = await run(swapContents(rows, 4, 5));
    t.same(tampered(r), ['1..5 rows-differ', '6..10 rows-differ'], 'swapped across two sub-tables: both named');
    t.ok(r.signatures.failures.length === 0, 'swapping keeps every signature valid: only the anchors catch it');
    r = await run(swap(rows, 4, 5));
    t.ok(r.ok, 'export lines in another order (same ids, same rows) are the same table');
  });

  t.test('forged receipts, a root not on chain, a missing receipt, another submitter', async (t) => {
    const i = receipts.findIndex((x) => x.firstId === 16);
    const bent = receipts.map((x, k) => (k === i ? { ...x, proof: x.proof.map((p, j) => (j === 0 ? { ...p, hash: sha256(utf8('forged')) } : p)) } : x));
    let r = await run(rows, bent);
    t.same(tampered(r), ['16..20 receipt-invalid'], 'a bent proof');
    // Tamper rows 31..35 and forge a whole new tree for batch 1 that matches them: its root is not on chain.
    const row = rows[31]! as Extract<Row, { kind: 'reading' }>;
    const edited = rows.map((x) => (x === row ? { ...row, groupId: 77 } : x));
    const batch1 = receipts.filter((x) => x.batch === 1);
    const leaves = batch1.map((x) => subTableLeaf(edited.filter((y) => y.id >= x.firstId && y.id <= x.lastId)));
    const tree = new MerkleLevels(leaves);
    const fake = batch1.map((x, k) => ({ ...x, targetHash: leaves[k]!, merkleRoot: tree.root, proof: tree.proof(k) }));
    r = await run(edited, [...receipts.filter((x) => x.batch === 0), ...fake]);
    t.same(tampered(r).filter((x) => x.includes('root-not-on-chain')), ['21..25 root-not-on-chain', '26..30 root-not-on-chain', '31..35 root-not-on-chain', '36..40 root-not-on-chain']);
    t.same(tampered(r).filter((x) => x.includes('receipt-missing')), ['21..25 receipt-missing', '26..30 receipt-missing', '31..35 receipt-missing', '36..40 receipt-missing'], 'and the real batch 1 is still found on chain, without receipts');
    r = await run(rows, receipts.filter((x) => x.firstId !== 6));
    t.same(tampered(r), ['6..10 receipt-missing'], 'a deleted receipt: its range is inferred from its neighbours');
    r = await run(rows, receipts.map((x) => (x.firstId === 1 ? { ...x, rows: 6 } : x)));
    t.same(tampered(r), ['1..5 receipt-invalid'], 'a receipt that contradicts itself');
    r = await run(rows, receipts.map((x) => (x.firstId === 1 ? { ...x, m: 19 } : x)));
    t.same(tampered(r), ['1..5 meta-mismatch'], 'a receipt that contradicts the chain');
    r = await run(rows, receipts, { submitter: thief.identity });
    t.equal(r.subTables.filter((s) => s.reason === 'wrong-submitter').length, 8, 'receipts by someone else than the expected submitter');
    t.equal(r.tables[0]!.batches, 0);
  });

  t.test('signatures: a wrong key, a replayed reading (both anchored), a revoked key by anchoring height', async (t) => {
    const signers = syntheticSigners(svc.online, 4, 2, svc.identity);
    const intruder = fastChainSigner(keyPairFromPrivate(KeyType.p256, sha256(utf8('intruder'))), signers.devices[1]!.address);
    let env = signReading(intruder, { seq: 5000, timestamp: 1, data: utf8('t=0') });
    env = countersignReading(countersignReading(env, 'gateway', signers.gateways[0]!), 'service', signers.service);
    const first = syntheticReading(signers, 2000);
    const rowsIn = [syntheticReading(signers, 1999), { groupId: undefined, kind: 'reading' as const, envelope: env }, first, first, syntheticReading(signers, 2001)];
    await store.append('sig', rowsIn);
    await new AnchorDaemon({ store, table: 'sig', m: 5, n: 5, key: svc.online, identity: svc.identity, client: n.client, receipts: receiptDir }).runOnce();
    const sigRows: Row[] = [];
    for await (const x of store.scan('sig')) sigRows.push(x);
    const rc = (await receiptDir.receipts('sig')).receipts.map((x) => x.receipt);
    const r = await audit([{ table: 'sig', rows: sigRows, receipts: rc }], { view, keys });
    t.ok(r.subTables.every((s) => s.status === 'OK'), 'the anchors match: these rows were stored like this');
    t.match(r.signatures.failures, [
      { id: 2, reason: 'bad-signature', signer: { role: 'device', address: toHex(signers.devices[1]!.address) } },
      { id: 4, reason: 'replay', signer: { role: 'device' } },
    ]);
    t.notOk(r.ok);

    // The service's key is revoked at the height batch 1 of `main` was anchored: batch 0 (anchored
    // before) still verifies, batch 1 and the rows not anchored yet do not.
    const h1 = receipts.find((x) => x.batch === 1)!.anchor.height;
    const h0 = receipts.find((x) => x.batch === 0)!.anchor.height;
    t.ok(h0 < h1);
    const fake = new MapKeyHistory();
    for (const e of ing.directory as DirectoryEntry[]) fake.add(e.address, { type: e.type, publicKey: e.publicKey, ...(e.role === 'service' ? { revokedAt: h1 } : {}) });
    const rev = await run(rows, receipts, { keys: fake });
    const failed = rev.signatures.failures.map((f) => f.id);
    t.same(failed, rows.filter((x) => x.id > 20).map((x) => x.id), 'only rows anchored at or after the revocation (and unanchored ones) fail');
    t.match(rev.signatures.failures[0], { reason: 'revoked-key', signer: { role: 'service' }, anchoredAt: h1, detail: /revoked at height/ });
    const later = new MapKeyHistory();
    for (const e of ing.directory) later.add(e.address, { type: e.type, publicKey: e.publicKey, ...(e.role === 'service' ? { revokedAt: h1 + 1 } : {}) });
    t.same((await run(rows, receipts, { keys: later })).signatures.failures.map((f) => f.id), [41, 42, 43], 'revoked after both batches: only the unanchored rows fail');
  });

  t.test('offline: a proof bundle and the genesis validator set give the same verdicts', async (t) => {
    await run(rows);
    const bundle = rpcSource.bundle();
    t.ok(bundle.answers.length >= 3);
    const offline = new AnchorView(new BundleProofSource(bundle, trust));
    const clean = await audit([{ table: 'main', rows, receipts }], { view: offline, keys });
    t.ok(clean.ok);
    const del = await audit([{ table: 'main', rows: rows.filter((x) => x.id !== 33), receipts }], { view: offline, keys });
    t.same(tampered(del), ['31..35 rows-differ']);
    const forgedBundle = JSON.parse(JSON.stringify(bundle)) as typeof bundle;
    const ans = forgedBundle.answers.find((a) => a.path === 'receipts/anchorHead')!;
    (ans.answer.value as { count: number }).count = 1;
    await t.rejects(audit([{ table: 'main', rows, receipts }], { view: new AnchorView(new BundleProofSource(forgedBundle, trust)) }), { code: 'PROOF_INVALID' }, 'an edited answer fails its proof');
    const otherSet = { ...trust, validators: [{ ...trust.validators[0]!, consensusKey: keyPairFromPrivate(KeyType.p256, sha256(utf8('other validator'))).publicKey }] };
    await t.rejects(audit([{ table: 'main', rows, receipts }], { view: new AnchorView(new BundleProofSource(bundle, otherSet)) }), { code: 'PROOF_INVALID' }, 'another validator set does not certify the headers');
  });
});
