// Identity: name syntax, commit–reveal, front-running, CA mode, expiry and renewal, backup takeover.
import t from 'tap';
import { Harness, entity, keyArgs, toHex, CHAIN_ID, FAST_IDENTITY_PARAMS as P } from './helpers.js';
import { nameCommitment, nameSyntaxError, parseEndpoint, IDENTITY_ERR } from '../../../../protocols/identity/index.js';
import { moduleAddress, FEE_COLLECTOR } from '../../../../protocols/bank/index.js';
import { ERR } from '../../../../lib/errors.js';

const gw = entity('gateway');
const ca = entity('ca');
const mallory = entity('mallory');
const backup = entity('backup');
const salt = new Uint8Array(32).fill(1);
const fee = BigInt(P.nameFeePerPeriod);

t.test('name syntax: lower-case ASCII LDH labels, 1–63 chars each, ≤ 253 in total', async (t) => {
  const ok = ['gateway.bit', 'a', 'a-b.c0', 'xn--bcher-kva.example', 'x'.repeat(63) + '.b', [1, 2, 3].map(() => 'a'.repeat(63)).join('.') + '.' + 'b'.repeat(61)];
  for (const n of ok) t.equal(nameSyntaxError(n), undefined, `accepts ${n.slice(0, 30)} (${n.length})`);
  const bad = ['', 'Gateway.bit', 'gate_way.bit', '-a.bit', 'a-.bit', 'a..bit', '.a', 'a.', 'gätеway.bit', 'a b', 'x'.repeat(64) + '.b', 'a.'.repeat(127) + 'a', 'gateway.bit\u0000', 'ｇateway.bit'];
  for (const n of bad) t.type(nameSyntaxError(n), 'string', `refuses ${JSON.stringify(n.slice(0, 30))}`);
});

t.test('ip syntax: IPv4, IPv6 (lower-case), optional port, strictly parsed', async (t) => {
  const ok: [string, string, number | undefined][] = [
    ['10.0.0.1', 'ipv4', undefined],
    ['255.255.255.255:65535', 'ipv4', 65535],
    ['0.0.0.0:1', 'ipv4', 1],
    ['::1', 'ipv6', undefined],
    ['::', 'ipv6', undefined],
    ['2001:db8::8a2e:370:7334', 'ipv6', undefined],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', 'ipv6', undefined],
    ['::ffff:192.0.2.1', 'ipv6', undefined],
    ['[2001:db8::1]:443', 'ipv6', 443],
    ['1:2:3:4:5:6:7::', 'ipv6', undefined],
  ];
  for (const [ip, kind, port] of ok) t.match(parseEndpoint(ip), { kind, port }, `accepts ${ip}`);
  const bad = [
    '', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4:080', '1.2.3.4:', ' 1.2.3.4', '1.2.3.4 ',
    '1.2.3.4:1e3', '1.2.3.0x1', '1.2.3.4.', '1.2.3.-4', '1.2.3.+4', '1.2.3.4:+80', '１.2.3.4',
    '2001:DB8::1', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'fe80::1%eth0', '[::1]', '[::1]:', '::1:443]', '[1.2.3.4]:80', '::ffff:256.0.0.1', '1:2:3:4:5:6:7:8::',
    'gateway.bit', 'localhost:80',
  ];
  for (const ip of bad) t.equal(parseEndpoint(ip), undefined, `refuses ${JSON.stringify(ip)}`);
});

t.test('fully decentralized: commit, wait, reveal; resolves; the fee goes to the fee collector', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline] });
  await h.register(gw);
  const fees = h.balance(moduleAddress(FEE_COLLECTOR));
  const commitment = nameCommitment(CHAIN_ID, 'gateway.bit', gw.id, salt);
  await h.ok(h.id(gw.offline, 'commitDomainName', { commitment }));
  const c = await h.provenQuery('identity/commitment', { committer: toHex(gw.id), commitment: toHex(commitment) });
  t.match(c, { found: true, revealFrom: h.time + P.minCommitAgeMs, revealUntil: h.time + P.maxCommitAgeMs });
  // too early
  const reveal = (k = gw.offline, extra: Record<string, unknown> = {}) =>
    h.id(k, 'submitDomainName', { addr: gw.id, name: 'gateway.bit', ip: '10.0.0.1:443', backup: undefined, salt, periods: 2, ...extra });
  await h.refused(reveal(), IDENTITY_ERR.COMMIT_TOO_NEW, /ms old; reveal after/, 'reveal too early');
  h.advance(P.minCommitAgeMs);
  await h.ok(reveal());
  const expires = h.time + 2 * P.namePeriodMs;
  const r = await h.provenQuery('identity/resolveAddress', { name: 'gateway.bit' });
  t.match(r, { state: 'active', resolved: true, ip: '10.0.0.1:443', owner: toHex(gw.id), mode: 'decentralized', registrar: toHex(gw.id), expires });
  t.equal(h.balance(moduleAddress(FEE_COLLECTOR)) - fees, 2n * fee, 'two periods paid');
  t.match(await h.query('identity/commitment', { committer: toHex(gw.id), commitment: toHex(commitment) }), { found: false }, 'commitment consumed');
  t.match(await h.query('identity/resolveAddress', { name: 'other.bit' }), { state: 'unregistered', resolved: false, ip: null });
});

t.test('reveal refusals: too late, no commitment, wrong salt, taken, not authorized, syntax — state unchanged', async (t) => {
  const maxCommitAgeMs = 60_000; // long enough for the refusals below, one block each
  const h = await Harness.create(t, { funded: [gw.offline, mallory.offline, mallory.online], identityParams: { maxCommitAgeMs } });
  await h.register(gw, mallory);
  const args = (extra: Record<string, unknown> = {}) => ({ addr: gw.id, name: 'gateway.bit', ip: '10.0.0.1', backup: undefined, salt, periods: 1, ...extra });
  await h.refused(h.id(gw.offline, 'submitDomainName', args()), IDENTITY_ERR.NO_COMMITMENT, /commit first/, 'reveal without commit');
  await h.ok(h.id(gw.offline, 'commitDomainName', { commitment: nameCommitment(CHAIN_ID, 'gateway.bit', gw.id, salt) }));
  const committedAt = h.time;
  await h.refused(h.id(gw.offline, 'commitDomainName', { commitment: nameCommitment(CHAIN_ID, 'gateway.bit', gw.id, salt) }), IDENTITY_ERR.COMMITMENT_EXISTS, undefined, 'same commitment twice');
  h.advance(P.minCommitAgeMs);
  await h.refused(h.id(gw.offline, 'submitDomainName', args({ salt: new Uint8Array(32).fill(2) })), IDENTITY_ERR.NO_COMMITMENT, undefined, 'wrong salt');
  await h.refused(h.id(gw.offline, 'submitDomainName', args({ periods: P.maxPeriods + 1 })), IDENTITY_ERR.BAD_PERIODS, undefined, 'too many periods');
  await h.refused(h.id(gw.offline, 'submitDomainName', args({ periods: 0 })), ERR.BAD_ARGS, /periods/, 'zero periods');
  await h.refused(h.id(gw.offline, 'submitDomainName', args({ name: 'Gateway.bit' })), ERR.BAD_ARGS, /lower-case/, 'bad name syntax');
  await h.refused(h.id(gw.offline, 'submitDomainName', args({ ip: '10.0.0.256' })), ERR.BAD_ARGS, /ip must be/, 'bad ip syntax');
  await h.refused(h.id(gw.offline, 'submitDomainName', args({ backup: gw.id })), ERR.BAD_ARGS, /backup must differ/, 'backup = owner');
  await h.refused(h.id(gw.offline, 'submitDomainName', args({ backup: mallory.on })), IDENTITY_ERR.BAD_BACKUP, /online key/, 'backup is an online key');
  await h.refused(h.id(mallory.offline, 'submitDomainName', args()), IDENTITY_ERR.NOT_AUTHORIZED, /owner .* or a registered CA/, 'a third party (not a CA) submits for gw');
  await h.refused(h.id(gw.online, 'submitDomainName', args()), ERR.WRONG_SIGNER, undefined, 'reveal signed by the online key');
  h.advance(committedAt + maxCommitAgeMs + 1 - h.nextTime); // the next block is 1 ms past the maximum age
  const [late] = await h.block([h.id(gw.offline, 'submitDomainName', args())]);
  t.equal(late!.code, IDENTITY_ERR.COMMIT_TOO_OLD, 'reveal too late');
  t.match(late!.message, /expired/);
  t.match(await h.query('identity/resolveAddress', { name: 'gateway.bit' }), { state: 'unregistered' }, 'nothing registered');
  // the same block's end-of-block hook garbage-collected the expired commitment
  t.match(await h.query('identity/commitment', { committer: toHex(gw.id), commitment: toHex(nameCommitment(CHAIN_ID, 'gateway.bit', gw.id, salt)) }), { found: false });
  // duplicate name
  await h.registerName('gateway.bit', gw);
  await h.ok(h.id(mallory.offline, 'commitDomainName', { commitment: nameCommitment(CHAIN_ID, 'gateway.bit', mallory.id, salt) }));
  h.advance(P.minCommitAgeMs);
  await h.refused(h.id(mallory.offline, 'submitDomainName', { ...args(), addr: mallory.id }), IDENTITY_ERR.NAME_TAKEN, /taken \(active\)/, 'duplicate name');
});

t.test('a front-runner who sees the commitment or the reveal cannot take the name', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, mallory.offline] });
  await h.register(gw, mallory);
  const commitment = nameCommitment(CHAIN_ID, 'gateway.bit', gw.id, salt);
  await h.ok(h.id(gw.offline, 'commitDomainName', { commitment }));
  // mallory copies the commitment bytes under his own address
  await h.ok(h.id(mallory.offline, 'commitDomainName', { commitment }));
  h.advance(P.minCommitAgeMs);
  // mallory sees gw's reveal (name, salt) and races it: with himself as owner the hash differs…
  const steal = h.id(mallory.offline, 'submitDomainName', { addr: mallory.id, name: 'gateway.bit', ip: '6.6.6.6', backup: undefined, salt, periods: 1 });
  await h.refused(steal, IDENTITY_ERR.NO_COMMITMENT, undefined, 'front-runner reveals for himself');
  // …and his copied commitment can only register the name for gw, whose identity is inside the hash
  await h.refused(h.id(mallory.offline, 'submitDomainName', { addr: gw.id, name: 'gateway.bit', ip: '6.6.6.6', backup: undefined, salt, periods: 1 }), IDENTITY_ERR.NOT_AUTHORIZED, undefined, 'copied commitment for gw');
  // a fresh commitment made after seeing the reveal is too young: the honest reveal lands first
  const fresh = nameCommitment(CHAIN_ID, 'gateway.bit', mallory.id, new Uint8Array(32).fill(9));
  await h.ok(h.id(mallory.offline, 'commitDomainName', { commitment: fresh }));
  const [rm, rg] = await h.block([
    h.id(mallory.offline, 'submitDomainName', { addr: mallory.id, name: 'gateway.bit', ip: '6.6.6.6', backup: undefined, salt: new Uint8Array(32).fill(9), periods: 1 }),
    h.id(gw.offline, 'submitDomainName', { addr: gw.id, name: 'gateway.bit', ip: '10.0.0.1', backup: undefined, salt, periods: 1 }),
  ]);
  t.equal(rm!.code, IDENTITY_ERR.COMMIT_TOO_NEW, 'front-runner placed first in the block is too early');
  t.equal(rg!.code, '', 'the honest reveal succeeds');
  t.match(await h.query('identity/resolveAddress', { name: 'gateway.bit' }), { owner: toHex(gw.id), ip: '10.0.0.1' });
});

t.test('quasi-centralized: a registered CA submits for an entity; non-CAs cannot; CA seam', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, ca.offline, mallory.offline], cas: [ca.id] });
  await h.register(gw, ca);
  t.match(await h.provenQuery('identity/isCa', { addr: toHex(ca.id) }), { registered: true, since: 0 });
  t.match(await h.query('identity/isCa', { addr: toHex(mallory.id) }), { registered: false });
  await h.registerName('gw.example', gw, { by: ca.offline, ip: '[2001:db8::1]:8443' });
  t.match(await h.query('identity/resolveAddress', { name: 'gw.example' }), { mode: 'ca', registrar: toHex(ca.id), owner: toHex(gw.id), ip: '[2001:db8::1]:8443' });
  // the owner must be registered even in CA mode
  await h.ok(h.id(ca.offline, 'commitDomainName', { commitment: nameCommitment(CHAIN_ID, 'm.example', mallory.id, salt) }));
  h.advance(P.minCommitAgeMs);
  await h.refused(h.id(ca.offline, 'submitDomainName', { addr: mallory.id, name: 'm.example', ip: '1.1.1.1', backup: undefined, salt, periods: 1 }), IDENTITY_ERR.NOT_REGISTERED, /owner/, 'CA submits for an unregistered owner');
});

t.test('certificateFacts: the on-chain half of a certificate check, with every reason', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, ca.offline, mallory.offline], cas: [ca.id] });
  await h.register(gw, ca, mallory);
  await h.registerName('gw.example', gw, { by: ca.offline });
  const facts = (online: Uint8Array, caAddr?: Uint8Array, name = 'gw.example') =>
    h.provenQuery('identity/certificateFacts', { name, online: toHex(online), ca: caAddr ? toHex(caAddr) : null });
  const good = await facts(gw.on, ca.id);
  t.match(good, { valid: true, reasons: [], key: { state: 'active', matchesDomain: true, owner: toHex(gw.id) }, ca: { registered: true, keyActive: true, online: toHex(ca.on) }, name: { resolved: true } });
  t.same((await facts(gw.on)).reasons, [], 'self-signed mode: no CA facts needed');
  t.same((await facts(mallory.on, ca.id)).reasons, ['KEY_NOT_DOMAIN_OWNER']);
  t.same((await facts(gw.on, mallory.id)).reasons, ['CA_NOT_REGISTERED']);
  t.same((await facts(gw.on, ca.id, 'nope.example')).reasons, ['NAME_NOT_REGISTERED']);
  t.same((await facts(entity('nobody').on, ca.id)).reasons, ['KEY_NOT_REGISTERED']);
  await h.ok(h.id(gw.offline, 'updatePublicKey', keyArgs(gw.id, entity('gw-next').online)));
  const revoked = await facts(gw.on, ca.id);
  t.same(revoked.reasons, ['KEY_REVOKED']);
  t.match(revoked, { key: { revokedAt: h.height } });
  await h.ok(h.id(gw.offline, 'closePublicKey', {}));
  t.same((await facts(entity('gw-next').on, ca.id)).reasons, ['NAME_OWNER_CLOSED', 'KEY_CLOSED']);
  h.advance(P.namePeriodMs);
  await h.ok();
  t.same((await facts(entity('gw-next').on, ca.id)).reasons, ['NAME_EXPIRED', 'KEY_CLOSED']);
});

t.test('expiry, grace, renewal (any signer pays) and re-registration once free', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, mallory.offline, mallory.online] });
  await h.register(gw, mallory);
  await h.registerName('gateway.bit', gw);
  const expires = h.time + P.namePeriodMs;
  await h.refused(h.id(gw.offline, 'renewDomainName', { name: 'gateway.bit', periods: P.maxPeriods }), IDENTITY_ERR.HORIZON, undefined, 'renew beyond the horizon');
  await h.refused(h.id(gw.offline, 'renewDomainName', { name: 'nope.bit', periods: 1 }), IDENTITY_ERR.NAME_NOT_FOUND, undefined, 'renew an unknown name');
  h.advance(P.namePeriodMs);
  await h.ok();
  t.match(await h.query('identity/resolveAddress', { name: 'gateway.bit' }), { state: 'expired', resolved: false, ip: null });
  await h.refused(h.id(gw.offline, 'updateDomainName', { name: 'gateway.bit', ip: '10.0.0.2', backup: undefined }), IDENTITY_ERR.NAME_EXPIRED, undefined, 'update while expired');
  // in grace, anyone may pay the renewal (here mallory's online key: 'any' signer); it extends from the old expiry
  const paid = h.balance(mallory.on);
  await h.ok(h.id(mallory.online, 'renewDomainName', { name: 'gateway.bit', periods: 1 }));
  t.equal(paid - h.balance(mallory.on), fee);
  t.match(await h.query('identity/resolveAddress', { name: 'gateway.bit' }), { state: 'active', owner: toHex(gw.id), expires: expires + P.namePeriodMs });
  // let it lapse beyond grace: anyone may register it again (commit–reveal)
  h.advance(P.namePeriodMs + P.nameGraceMs);
  await h.ok();
  t.match(await h.query('identity/resolveAddress', { name: 'gateway.bit' }), { state: 'free' });
  await h.refused(h.id(gw.offline, 'renewDomainName', { name: 'gateway.bit', periods: 1 }), IDENTITY_ERR.NAME_NOT_FOUND, /grace/, 'renew after grace');
  await h.registerName('gateway.bit', mallory);
  t.match(await h.query('identity/resolveAddress', { name: 'gateway.bit' }), { state: 'active', owner: toHex(mallory.id) });
});

t.test('updateDomainName: owner only; backup takeover only after the owner closes', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, mallory.offline, backup.offline] });
  await h.register(gw, mallory);
  await h.registerName('gateway.bit', gw, { backup: backup.id });
  await h.refused(h.id(mallory.offline, 'updateDomainName', { name: 'gateway.bit', ip: '6.6.6.6', backup: undefined }), IDENTITY_ERR.NOT_OWNER, undefined, 'update by non-owner');
  await h.ok(h.id(gw.offline, 'updateDomainName', { name: 'gateway.bit', ip: '10.0.0.9', backup: backup.id }));
  t.match(await h.query('identity/resolveAddress', { name: 'gateway.bit' }), { ip: '10.0.0.9', backup: toHex(backup.id) });
  await h.refused(h.id(backup.offline, 'takeOverDomainName', { name: 'gateway.bit', ip: undefined }), IDENTITY_ERR.OWNER_NOT_CLOSED, /only after/, 'takeover before close');
  await h.refused(h.id(mallory.offline, 'takeOverDomainName', { name: 'gateway.bit', ip: undefined }), IDENTITY_ERR.NOT_BACKUP, undefined, 'takeover by a non-backup');
  await h.ok(h.id(gw.offline, 'closePublicKey', {}));
  t.match(await h.query('identity/resolveAddress', { name: 'gateway.bit' }), { state: 'owner-closed', resolved: false, ip: null }, 'closing the key makes its names unusable');
  await h.refused(h.id(gw.offline, 'renewDomainName', { name: 'gateway.bit', periods: 1 }), IDENTITY_ERR.CLOSED, /backup/, 'renew a closed owner’s name');
  await h.refused(h.id(backup.offline, 'takeOverDomainName', { name: 'gateway.bit', ip: undefined }), IDENTITY_ERR.NOT_REGISTERED, /backup/, 'backup must be registered');
  await h.register(backup);
  await h.ok(h.id(backup.offline, 'takeOverDomainName', { name: 'gateway.bit', ip: '10.1.1.1' }));
  t.match(await h.provenQuery('identity/resolveAddress', { name: 'gateway.bit' }), { state: 'active', owner: toHex(backup.id), ip: '10.1.1.1', backup: null, mode: 'decentralized' });
  await h.refused(h.id(backup.offline, 'takeOverDomainName', { name: 'gateway.bit', ip: undefined }), IDENTITY_ERR.NOT_BACKUP, undefined, 'takeover twice');
});
