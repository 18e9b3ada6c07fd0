// Identity genesis: strict parsing, defaults, the CA set and its governance seam.
import t from 'tap';
import { testChain, testKey, addr } from '../../../utils/chain.js';
import { toChecksumAddress } from '../../../../crypto/keys.js';
import { Overlay } from '../../../../state/overlay.js';
import { storeAccess } from '../../../../protocols/execute.js';
import { scopedReader } from '../../../../protocols/module.js';
import { runQuery } from '../../../../protocols/query.js';
import { caGovernance, DEFAULT_IDENTITY_PARAMS, IDENTITY_ERR } from '../../../../protocols/identity/index.js';
import { IdentityReader } from '../../../../protocols/identity/store.js';
import { entity, Harness } from './helpers.js';

const ca = addr(testKey('ca'));

t.test('no identity section: default parameters, no CA', async (t) => {
  const c = await testChain();
  const p = (await runQuery(c.app, 'identity/params', {}, false)).value as Record<string, unknown>;
  t.equal(p.minCommitAgeMs, DEFAULT_IDENTITY_PARAMS.minCommitAgeMs);
  t.equal(p.nameFeePerPeriod, DEFAULT_IDENTITY_PARAMS.nameFeePerPeriod.toString());
});

t.test('bad sections are refused with a clear message', async (t) => {
  const bad = async (section: unknown, re: RegExp) => {
    await t.rejects(testChain({ extra: { identity: section } }), { code: IDENTITY_ERR.BAD_GENESIS, message: re }, re.source);
  };
  await bad({ extra: 1 }, /unknown field extra/);
  await bad({ cas: ['0x1234'] }, /cas\[0\]/);
  await bad({ cas: [toChecksumAddress(ca), toChecksumAddress(ca)] }, /duplicate/);
  await bad({ params: { minCommitAgeMs: 5, maxCommitAgeMs: 4 } }, /maxCommitAgeMs/);
  await bad({ params: { nameFeePerPeriod: 5 } }, /decimal amount string/);
  await bad({ params: { namePeriodMs: 1.5 } }, /integer/);
  await bad({ params: { nope: 1 } }, /unknown field params.nope/);
  await bad({ params: { trustUnit: '0' } }, /trustUnit/);
  await bad([], /expected/);
});

t.test('CA governance seam: add and remove outside transactions (for a validator-approved change)', async (t) => {
  const gw = entity('gateway');
  const h = await Harness.create(t, { funded: [gw.offline] });
  await h.register(gw);
  const overlay = new Overlay(h.c.store);
  const access = storeAccess(overlay);
  const reader = () => new IdentityReader(scopedReader(overlay, 2));
  caGovernance.addCa(access, ca, 42);
  t.same(reader().ca(ca), { since: 42 });
  t.ok(caGovernance.isCa({ readerOf: (id) => scopedReader(overlay, id) }, ca));
  t.throws(() => caGovernance.addCa(access, ca, 50), { code: IDENTITY_ERR.BAD_CA, message: /already a CA/ });
  t.same(reader().ca(ca), { since: 42 }, 'a second add changes nothing');
  t.throws(() => caGovernance.addCa(access, gw.on, 1), { code: IDENTITY_ERR.BAD_CA, message: /online key/ });
  t.match(caGovernance.caRefusal({ readerOf: (id) => scopedReader(overlay, id) }, gw.on), /online key/);
  caGovernance.removeCa(access, ca);
  t.equal(reader().ca(ca), undefined);
  t.throws(() => caGovernance.removeCa(access, ca), { code: IDENTITY_ERR.BAD_CA, message: /not a CA/ }, 'removing a non-CA is refused');
});
