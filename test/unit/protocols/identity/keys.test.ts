// Identity: key registration, rotation, closure, signer roles, history and the keyValidAt rule.
import t from 'tap';
import { Harness, entity, keyArgs, addr, testKey, KeyType, toHex, CHAIN_ID } from './helpers.js';
import { signPop, keyValidAt, IDENTITY_ERR } from '../../../../protocols/identity/index.js';
import { transferTx } from '../../../utils/chain.js';
import { ERR } from '../../../../lib/errors.js';

const gw = entity('gateway');
const svc = entity('service', KeyType.p256);
const mallory = entity('mallory');

t.test('submitPublicKey registers offline → online; queries answer (and verify as proven answers)', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, svc.offline] });
  await h.register(gw, svc);
  const k = await h.provenQuery('identity/getKey', { addr: toHex(gw.id) });
  t.match(k, { registered: true, offline: toHex(gw.id), online: toHex(gw.on), keyType: 'secp256k1', pub: toHex(gw.online.publicKey), active: true, closedAt: null, historyLength: 1 });
  const p = await h.provenQuery('identity/getKey', { addr: toHex(svc.on) });
  t.match(p, { offline: toHex(svc.id), keyType: 'p256' }, 'an online address maps to its identity');
  const hist = await h.provenQuery('identity/keyHistory', { addr: toHex(gw.id) });
  t.same(hist.entries, [{ online: toHex(gw.on), keyType: 'secp256k1', pub: toHex(gw.online.publicKey), from: 1, to: null }]);
  t.same(await h.query('identity/getKey', { addr: toHex(mallory.id) }), { registered: false, offline: toHex(mallory.id) });
});

t.test('submitPublicKey refusals leave state unchanged', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, svc.offline, mallory.offline, mallory.online] });
  await h.register(gw);
  // bad proof of possession: signed for another offline address, or by another key
  await h.refused(h.id(mallory.offline, 'submitPublicKey', { ...keyArgs(mallory.id, mallory.online), pop: signPop(mallory.online, CHAIN_ID, svc.id) }), IDENTITY_ERR.BAD_POP, /pop/, 'pop for another identity');
  await h.refused(h.id(mallory.offline, 'submitPublicKey', { ...keyArgs(mallory.id, mallory.online), pop: signPop(mallory.online, 'other-chain', mallory.id) }), IDENTITY_ERR.BAD_POP, undefined, 'pop for another chain');
  // mallory tries to register someone else's (not yet registered) key: he cannot sign its pop,
  // and the pop that key made for its own identity does not name him
  await h.refused(h.id(mallory.offline, 'submitPublicKey', { ...keyArgs(mallory.id, svc.online), pop: signPop(mallory.online, CHAIN_ID, mallory.id) }), IDENTITY_ERR.BAD_POP, undefined, 'pop by another key');
  await h.refused(h.id(mallory.offline, 'submitPublicKey', keyArgs(svc.id, svc.online)), IDENTITY_ERR.BAD_POP, undefined, 'replayed pop of another identity');
  // …and even with a valid pop (say the key leaked) a key is never registered by two identities
  await h.refused(h.id(mallory.offline, 'submitPublicKey', keyArgs(mallory.id, gw.online)), IDENTITY_ERR.KEY_TAKEN, /another identity/, 'key already registered');
  await h.refused(h.id(gw.offline, 'submitPublicKey', keyArgs(gw.id, testKey('gw2'))), IDENTITY_ERR.ALREADY_REGISTERED, /updatePublicKey/, 'second registration');
  await h.refused(h.id(mallory.offline, 'submitPublicKey', keyArgs(mallory.id, mallory.offline)), IDENTITY_ERR.KEY_TAKEN, /differ/, 'online = offline');
  await h.refused(h.id(mallory.offline, 'submitPublicKey', keyArgs(mallory.id, gw.offline)), IDENTITY_ERR.KEY_TAKEN, /offline identity/, 'an identity address as online key');
  // a registered online key cannot act as an offline key (signer role)
  await h.refused(h.id(gw.online, 'submitPublicKey', keyArgs(gw.on, testKey('x'))), ERR.WRONG_SIGNER, /offline key.*online key of identity/, 'online key signing an offline method');
  // addr does not match pub: stateless (TX_BAD_ARGS)
  await h.refused(h.id(mallory.offline, 'submitPublicKey', { ...keyArgs(mallory.id, mallory.online), addr: svc.on }), ERR.BAD_ARGS, /addr is not the address of pub/, 'addr ≠ address(pub)');
  await h.refused(h.id(mallory.offline, 'submitPublicKey', { ...keyArgs(mallory.id, mallory.online), keyType: KeyType.p256 }), ERR.BAD_ARGS, undefined, 'wrong key type');
});

t.test('updatePublicKey rotates: old key revoked as of that height, kept in history; only the owner', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, gw.online, mallory.offline] });
  await h.register(gw);
  const next = testKey('gateway/online-2', KeyType.p256);
  await h.refused(h.id(mallory.offline, 'updatePublicKey', keyArgs(mallory.id, next)), IDENTITY_ERR.NOT_REGISTERED, undefined, 'update by a non-registered sender');
  await h.refused(h.id(mallory.offline, 'updatePublicKey', keyArgs(gw.id, next)), IDENTITY_ERR.NOT_REGISTERED, undefined, 'update for another identity (pop names gw)');
  await h.refused(h.id(gw.online, 'updatePublicKey', keyArgs(gw.id, next)), ERR.WRONG_SIGNER, undefined, 'update signed by the online key');
  await h.refused(h.id(gw.offline, 'updatePublicKey', keyArgs(gw.id, gw.online)), IDENTITY_ERR.KEY_TAKEN, /never reused/, 'same key again');
  await h.ok(h.id(gw.offline, 'updatePublicKey', keyArgs(gw.id, next)));
  const H = h.height;
  const hist = await h.provenQuery('identity/keyHistory', { addr: toHex(gw.id) });
  const entries = hist.entries as { online: string; from: number; to: number | null }[];
  t.same(entries.map((e) => [e.online, e.from, e.to]), [[toHex(gw.on), 1, H], [toHex(addr(next)), H, null]]);
  t.ok(keyValidAt(entries, gw.on, H - 1), 'old key valid for data anchored before H');
  t.notOk(keyValidAt(entries, gw.on, H), 'old key not valid at H');
  t.ok(keyValidAt(entries, addr(next), H), 'new key valid from H');
  t.notOk(keyValidAt(entries, addr(next), H - 1), 'new key not valid before H');
  t.notOk(keyValidAt(entries, mallory.on, H), 'unknown key never valid');
  // the revoked key may no longer sign online operations, nor act as an offline key
  const trust = await h.query('identity/getTrust', { addr: toHex(gw.on) });
  t.equal(trust.keyState, 'revoked');
  await h.refused(h.id(gw.online, 'closePublicKey', {}), ERR.WRONG_SIGNER, /revoked online key/, 'revoked key as offline signer');
  // and it can never be registered again, by anyone
  await h.refused(h.id(mallory.offline, 'submitPublicKey', keyArgs(mallory.id, gw.online)), IDENTITY_ERR.KEY_TAKEN, undefined, 'revoked key reused');
});

t.test('closePublicKey is irrevocable; keys become unusable; history records the end', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, gw.online, svc.offline] });
  await h.register(gw);
  await h.refused(h.id(svc.offline, 'closePublicKey', {}), IDENTITY_ERR.NOT_REGISTERED, undefined, 'close by an unregistered sender');
  await h.ok(h.id(gw.offline, 'closePublicKey', {}));
  const H = h.height;
  t.match(await h.query('identity/getKey', { addr: toHex(gw.id) }), { closed: true, active: false, closedAt: H });
  const hist = await h.query('identity/keyHistory', { addr: toHex(gw.id) });
  t.ok(keyValidAt(hist.entries as never, gw.on, H - 1));
  t.notOk(keyValidAt(hist.entries as never, gw.on, H));
  await h.refused(h.id(gw.offline, 'closePublicKey', {}), IDENTITY_ERR.CLOSED, /closed/, 'close twice');
  await h.refused(h.id(gw.offline, 'updatePublicKey', keyArgs(gw.id, testKey('gw-new'))), IDENTITY_ERR.CLOSED, undefined, 'update after close');
  await h.refused(h.id(gw.offline, 'submitPublicKey', keyArgs(gw.id, testKey('gw-new'))), IDENTITY_ERR.CLOSED, undefined, 'register again after close');
  await h.refused(h.id(gw.offline, 'addIncentive', { reward: 10n }), IDENTITY_ERR.CLOSED, undefined, 'incentive after close');
  t.equal((await h.query('identity/getTrust', { addr: toHex(gw.on) })).keyState, 'closed');
});

t.test('signer roles: offline, online, any (bank transfer) resolve as documented', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, gw.online, svc.offline, svc.online] });
  await h.register(gw);
  // 'any' (bank transfer) works from an online key: it pays from its own account
  const before = h.balance(gw.on);
  const [r] = await h.block([transferTx(gw.online, svc.id, 5n, h.c.app.account(gw.on).nonce)]);
  t.equal(r!.code, '');
  t.equal(h.balance(gw.on), before - 5n);
  // an 'online' method signed by a key that is not a registered online key
  await h.refused(h.rep(svc.online, 'voteDomain', { name: 'x.bit', score: -1, proof: undefined }), ERR.WRONG_SIGNER, /not the online key of any identity/, 'online method, unregistered key');
  await h.refused(h.rep(gw.offline, 'voteDomain', { name: 'x.bit', score: -1, proof: undefined }), ERR.WRONG_SIGNER, /registered online key/, 'online method signed offline');
});

t.test('keyValidAt accepts query JSON and bytes alike', async (t) => {
  const hist = [
    { online: '0x' + 'aa'.repeat(20), from: 1, to: 5 },
    { online: new Uint8Array(20).fill(0xbb), from: 5, to: null },
  ];
  t.ok(keyValidAt(hist, new Uint8Array(20).fill(0xaa), 4));
  t.notOk(keyValidAt(hist, '0x' + 'AA'.repeat(20), 5));
  t.ok(keyValidAt(hist, '0x' + 'bb'.repeat(20), 1_000_000));
  t.notOk(keyValidAt(hist, '0x' + 'bb'.repeat(20), 4));
  t.notOk(keyValidAt([], '0x' + 'bb'.repeat(20), 4));
});
