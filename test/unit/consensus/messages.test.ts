import t from 'tap';
import { mkdtemp, rm, appendFile, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, decodeMessage, signMessage, verifyMessage } from '../../../consensus/messages.js';
import { Wal } from '../../../consensus/wal.js';
import { EvidenceStore, MAX_EVIDENCE_PER_VALIDATOR } from '../../../node/evidence.js';
import { MemoryKvStore } from '../../../state/kvStore.js';
import { verifyCommit, type Validator, type BlockHeader, blockHash } from '../../../state/block.js';
import { testKey } from '../../utils/chain.js';
import { KeyType } from '../../../crypto/keys.js';
import type { ConsensusMessage, Prepare, PrePrepare, Commit, ViewChange, NewView } from '../../../consensus/core/index.js';

const keys = [0, 1, 2, 3].map((i) => testKey(`val-${i}`, KeyType.p256));
const validators: Validator[] = keys.map((k, i) => ({ name: `v${i}`, consensusKey: k.publicKey, peerId: `p${i}`, power: 1 }));
const CHAIN = 'msg-chain';
const h32 = (b: number) => new Uint8Array(32).fill(b);
const unsigned = new Uint8Array(0);

const pp: PrePrepare = { type: 'PrePrepare', from: 1, height: 1, view: 0, blockHash: h32(7), payload: new Uint8Array([1, 2, 3]), signature: unsigned };
const prep = (from: number, hash = h32(7)): Prepare => ({ type: 'Prepare', from, height: 1, view: 0, blockHash: hash, signature: unsigned });
const sign = <T extends ConsensusMessage>(m: T): T => signMessage(CHAIN, keys[m.from]!, m) as T;

t.test('encode/decode round-trips every message kind; garbage is rejected', async (t) => {
  const spp = sign(pp);
  const vc: ViewChange = sign({ type: 'ViewChange', from: 2, height: 1, newView: 1, prepared: { view: 0, blockHash: h32(7), prePrepare: spp, prepares: [sign(prep(2)), sign(prep(3))] }, signature: unsigned });
  const nv: NewView = sign({ type: 'NewView', from: 2, height: 1, view: 1, viewChanges: [vc], prePrepare: { ...pp, from: 2, view: 1 }, signature: unsigned });
  for (const m of [spp, sign(prep(2)), sign({ ...prep(3), type: 'Commit' } as Commit), vc, nv]) {
    t.same(decodeMessage(encodeMessage(m)), m, m.type);
    t.equal(verifyMessage(CHAIN, validators, m), undefined, `${m.type} verifies`);
  }
  t.throws(() => decodeMessage(new Uint8Array([0x93, 9, 9, 9])), /unknown consensus message type|ENCODING|expected/);
  t.throws(() => decodeMessage(new Uint8Array([0x97, 1])), /msgpack|expected/);
});

t.test('verification: wrong key, other chain, unknown validator, bad nested signature', async (t) => {
  const p = sign(prep(2));
  t.match(verifyMessage(CHAIN, validators, { ...p, from: 3 }), /bad Prepare signature/);
  t.match(verifyMessage('other', validators, p), /bad Prepare signature/);
  t.match(verifyMessage(CHAIN, validators, { ...p, from: 9 }), /unknown validator/);
  const forged = { ...sign(prep(3)), blockHash: h32(8) };
  const vc: ViewChange = sign({ type: 'ViewChange', from: 2, height: 1, newView: 1, prepared: { view: 0, blockHash: h32(7), prePrepare: sign(pp), prepares: [forged] }, signature: unsigned });
  t.match(verifyMessage(CHAIN, validators, vc), /prepared certificate/);
});

t.test('commit signatures form a certificate that verifyCommit accepts', async (t) => {
  const header: BlockHeader = { chainId: CHAIN, height: 1, time: 1, prevHash: h32(0), txRoot: h32(1), stateRoot: h32(2), resultsRoot: h32(3), proposer: new Uint8Array(20), validatorSetHash: new Uint8Array(32) };
  const { validatorSetHash } = await import('../../../state/block.js');
  header.validatorSetHash = validatorSetHash(validators);
  const hash = blockHash(header);
  const commits = [0, 1, 2].map((i) => sign<Commit>({ type: 'Commit', from: i, height: 1, view: 0, blockHash: hash, signature: unsigned }));
  const cert = { height: 1, view: 0, blockHash: hash, votes: commits.map((c) => ({ validatorIndex: c.from, signature: c.signature })) };
  t.same(verifyCommit(validators, header, cert), { ok: true });
  t.match(verifyCommit(validators, header, { ...cert, votes: cert.votes.slice(0, 2) }), { ok: false, reason: /quorum/ });
});

t.test('WAL: durable records replay; a torn tail is cut; corruption before the tail is an error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-wal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'wal', 'c.wal');
  let wal = Wal.open(file);
  const a = sign(prep(1));
  wal.append({ kind: 'sent', msg: a });
  wal.append({ kind: 'prepared', cert: { view: 0, blockHash: h32(7), prePrepare: sign(pp), prepares: [sign(prep(2)), sign(prep(3))] } });
  wal.close();
  await appendFile(file, new Uint8Array([0, 0, 1, 0, 9, 9])); // half-written frame
  wal = Wal.open(file);
  t.equal(wal.records.length, 2);
  t.same(wal.records[0], { kind: 'sent', msg: a });
  t.equal(wal.records[1]!.kind, 'prepared');
  wal.reset();
  t.equal(Wal.open(file).records.length, 0, 'reset empties the log');
  wal.append({ kind: 'sent', msg: a });
  wal.append({ kind: 'sent', msg: sign(prep(1, h32(9))) });
  wal.close();
  const buf = new Uint8Array(await readFile(file));
  buf[8] = buf[8]! ^ 0xff; // corrupt the first record's body
  await writeFile(file, buf);
  t.throws(() => Wal.open(file), /checksum mismatch/);
});

t.test('WAL: records appended without a sync are pending until sync(), and replay like the others', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-wal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'd.wal');
  const wal = Wal.open(file);
  t.notOk(wal.pendingSync, 'nothing pending at open');
  wal.append({ kind: 'prepared', cert: { view: 0, blockHash: h32(7), prePrepare: sign(pp), prepares: [sign(prep(2)), sign(prep(3))] } }, { sync: false });
  t.ok(wal.pendingSync, 'an unsynced append is pending');
  wal.append({ kind: 'sent', msg: sign(prep(1)) });
  t.notOk(wal.pendingSync, 'a synced append makes every earlier record durable too');
  wal.append({ kind: 'sent', msg: sign(prep(1, h32(8))) }, { sync: false });
  wal.sync();
  t.notOk(wal.pendingSync);
  wal.sync(); // no-op
  wal.close();
  t.same(Wal.open(file).records.map((r) => r.kind), ['prepared', 'sent', 'sent'], 'all three replay in order');
});

t.test('evidence store records conflicting pairs and lists them', async (t) => {
  const ev = new EvidenceStore(new MemoryKvStore());
  const a = sign(prep(2, h32(1)));
  const b = sign(prep(2, h32(2)));
  ev.record(a, b);
  ev.record(a, b); // same pair twice → one record
  await ev.flushed();
  const list = await ev.list();
  t.equal(list.length, 1);
  t.match(list[0], { validator: 2, type: 'Prepare', height: 1 });
  t.same(decodeMessage(Buffer.from(list[0]!.b.slice(2), 'hex')), b);
});

t.test('evidence store: a quota per validator (counted again after a restart), failed writes logged, never thrown', async (t) => {
  const store = new MemoryKvStore();
  const warnings: string[] = [];
  const log = { warn: (m: string) => warnings.push(m) };
  const ev = new EvidenceStore(store, log);
  // validator 2 equivocates at 40 heights; validator 3 once
  for (let h = 1; h <= 40; h++) ev.record(sign({ ...prep(2, h32(1)), height: h }), sign({ ...prep(2, h32(2)), height: h }));
  ev.record(sign(prep(3, h32(1))), sign(prep(3, h32(2))));
  await ev.flushed();
  const all = await ev.list(1000);
  t.equal(all.filter((e) => e.validator === 2).length, MAX_EVIDENCE_PER_VALIDATOR, 'validator 2: the quota, no more');
  t.equal(all.filter((e) => e.validator === 3).length, 1, "validator 3's record is kept: another validator's quota is its own");
  t.ok(warnings.some((w) => /quota/.test(w)), 'what was not stored is logged');
  // a new store over the same database counts what is there
  const again = new EvidenceStore(store, log);
  again.record(sign({ ...prep(2, h32(1)), height: 99 }), sign({ ...prep(2, h32(2)), height: 99 }));
  again.record(sign({ ...prep(3, h32(1)), height: 99 }), sign({ ...prep(3, h32(2)), height: 99 }));
  await again.flushed();
  const after = await again.list(1000);
  t.equal(after.filter((e) => e.validator === 2).length, MAX_EVIDENCE_PER_VALIDATOR, 'still the quota after a restart');
  t.equal(after.filter((e) => e.validator === 3).length, 2);
  // a failing write (disk full) is logged; nothing rejects or throws
  const broken = new EvidenceStore(Object.assign(new MemoryKvStore(), { batch: async () => Promise.reject(new Error('ENOSPC: no space left on device')) }), log);
  broken.record(sign(prep(1, h32(1))), sign(prep(1, h32(2))));
  await broken.flushed();
  t.ok(warnings.some((w) => /could not be stored/.test(w)), 'the failed write is logged');
});

t.test('evidence list stops once its records pass 4 MiB (after the first)', async (t) => {
  const ev = new EvidenceStore(new MemoryKvStore());
  // three validators each equivocate with 1.5 MiB PrePrepares: 3 MiB per record
  for (const from of [1, 2, 3]) {
    const a = sign({ ...pp, from, payload: new Uint8Array(1536 * 1024).fill(1) });
    const b = sign({ ...pp, from, payload: new Uint8Array(1536 * 1024).fill(2) });
    ev.record(a, b);
  }
  await ev.flushed();
  const list = await ev.list(10);
  t.equal(list.length, 1, 'one 3 MiB record; a second would pass 4 MiB');
  const one = await ev.list(1);
  t.equal(one.length, 1);
});
