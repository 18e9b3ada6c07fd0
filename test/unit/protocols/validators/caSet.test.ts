// The CA set changed by 2f+1 validator approval (SPEC §5.1, issue 4): proposals, approvals, every
// refusal with state unchanged, the effect on quasi-centralized names and certificates, and lapse
// when the validator set changes.
import t, { type Test } from 'tap';
import { Harness, entity, toHex, CHAIN_ID, FAST_IDENTITY_PARAMS as P } from '../identity/helpers.js';
import { testKey } from '../../../utils/chain.js';
import { KeyType } from '../../../../crypto/keys.js';
import { ERR } from '../../../../lib/errors.js';
import { nameCommitment, IDENTITY_ERR } from '../../../../protocols/identity/index.js';
import { caProposalId, proposalId, CaAction, VALIDATORS_ERR } from '../../../../protocols/validators/index.js';
import type { Validator } from '../../../../state/block.js';

const vals = [0, 1, 2, 3, 4].map((i) => testKey(`ca-gov-v${i}`, KeyType.p256));
const genesisVals = vals.slice(0, 4);
const gw = entity('gateway');
const ca = entity('ca');
const salt = new Uint8Array(32).fill(3);

async function harness(t: Test, cas: Uint8Array[] = []): Promise<Harness> {
  const h = await Harness.create(t, { funded: [gw.offline, ca.offline], validators: genesisVals, cas });
  await h.register(gw, ca);
  return h;
}

/** The CA commits and reveals a name for the gateway; returns the reveal's result code. */
async function caRegistersName(h: Harness, name: string): Promise<string> {
  await h.ok(h.id(ca.offline, 'commitDomainName', { commitment: nameCommitment(CHAIN_ID, name, gw.id, salt) }));
  h.advance(P.minCommitAgeMs);
  const [r] = await h.block([h.id(ca.offline, 'submitDomainName', { addr: gw.id, name, ip: '10.0.0.9:443', backup: undefined, salt, periods: 1 })]);
  return r!.code;
}

const isCa = async (h: Harness, a: Uint8Array) => (await h.provenQuery('identity/isCa', { addr: toHex(a) })).registered;

t.test('adding a CA takes 3 of 4 validators; then the CA may register names for entities', async (t) => {
  const h = await harness(t);
  t.equal(await caRegistersName(h, 'before.example'), IDENTITY_ERR.NOT_AUTHORIZED, 'not a CA yet: refused');

  const id = caProposalId({ action: CaAction.add, ca: ca.id });
  await h.ok(h.gov(vals[0]!, 'proposeAddCa', { ca: ca.id }));
  t.match(await h.provenQuery('validators/proposal', { proposal: toHex(id) }), { kind: 'addCa', ca: toHex(ca.id), approvals: [0] });
  await h.refused(h.gov(vals[0]!, 'approve', { proposal: id }), VALIDATORS_ERR.ALREADY_APPROVED, /already approved/, 'the proposer approves twice');
  await h.refused(h.gov(vals[0]!, 'proposeAddCa', { ca: ca.id }), VALIDATORS_ERR.ALREADY_APPROVED, /already approved/, 'the proposer proposes again');
  await h.ok(h.gov(vals[2]!, 'approve', { proposal: id }));
  t.equal(await isCa(h, ca.id), false, 'two of four: not yet');

  const [r] = await h.ok(h.gov(vals[1]!, 'proposeAddCa', { ca: ca.id }));
  t.match(r!.events.map((e) => e.type), ['caAdded'], 'proposing an open proposal approves it; the third approval adds the CA');
  t.match(await h.provenQuery('identity/isCa', { addr: toHex(ca.id) }), { registered: true, since: h.height });
  t.equal(await h.provenQuery('validators/proposal', { proposal: toHex(id) }), null, 'a passed proposal is closed');
  await h.refused(h.gov(vals[3]!, 'approve', { proposal: id }), VALIDATORS_ERR.UNKNOWN_PROPOSAL, /no open proposal/, 'approving a passed proposal');

  t.equal(await caRegistersName(h, 'after.example'), '', 'the new CA registers a name for the gateway');
  t.match(await h.query('identity/resolveAddress', { name: 'after.example' }), { mode: 'ca', registrar: toHex(ca.id), owner: toHex(gw.id) });
  t.same((await h.provenQuery('identity/certificateFacts', { name: 'after.example', online: toHex(gw.on), ca: toHex(ca.id) })).reasons, []);
});

t.test('removing a CA: its certificates stop verifying, the names it registered stay', async (t) => {
  const h = await harness(t, [ca.id]);
  t.equal(await caRegistersName(h, 'gw.example'), '');
  const id = caProposalId({ action: CaAction.remove, ca: ca.id });
  await h.ok(h.gov(vals[3]!, 'proposeRemoveCa', { ca: ca.id }), h.gov(vals[1]!, 'approve', { proposal: id }));
  t.equal(await isCa(h, ca.id), true, 'two approvals: still a CA');
  const [r] = await h.ok(h.gov(vals[2]!, 'approve', { proposal: id }));
  t.match(r!.events.map((e) => e.type), ['caRemoved']);
  t.equal(await isCa(h, ca.id), false);
  t.same((await h.provenQuery('identity/certificateFacts', { name: 'gw.example', online: toHex(gw.on), ca: toHex(ca.id) })).reasons, ['CA_NOT_REGISTERED']);
  t.match(await h.query('identity/resolveAddress', { name: 'gw.example' }), { owner: toHex(gw.id) }, 'the name still resolves');
  t.equal(await caRegistersName(h, 'later.example'), IDENTITY_ERR.NOT_AUTHORIZED, 'the removed CA can no longer register names');
});

t.test('refusals leave state unchanged', async (t) => {
  const h = await harness(t, [ca.id]);
  const outsider = vals[4]!;
  await h.refused(h.gov(outsider, 'proposeAddCa', { ca: gw.id }), VALIDATORS_ERR.NOT_VALIDATOR, /current validator/, 'a non-validator proposes');
  await h.refused(h.gov(gw.offline, 'proposeAddCa', { ca: gw.id }), VALIDATORS_ERR.NOT_VALIDATOR, /current validator/, 'an identity key proposes');
  await h.refused(h.gov(vals[0]!, 'proposeAddCa', { ca: ca.id }), VALIDATORS_ERR.CA_EXISTS, /already a CA/, 'adding an existing CA');
  await h.refused(h.gov(vals[0]!, 'proposeRemoveCa', { ca: gw.id }), VALIDATORS_ERR.NOT_CA, /not a CA/, 'removing a non-CA');
  await h.refused(h.gov(vals[0]!, 'proposeAddCa', { ca: gw.on }), VALIDATORS_ERR.BAD_CA, /online key/, 'an online key as CA');
  await h.refused(h.gov(vals[0]!, 'approve', { proposal: new Uint8Array(32).fill(9) }), VALIDATORS_ERR.UNKNOWN_PROPOSAL, /no open proposal/, 'approving an unknown proposal');
  await h.refused(h.raw(vals[0]!, 'validators', 'proposeAddCa', new Uint8Array([0x91, 0xc4, 0x03, 1, 2, 3])), ERR.BAD_ARGS, undefined, 'a 3-byte address');

  // the rules are checked again when the last approval arrives: the address became an online key meanwhile
  const late = entity('late');
  const id = caProposalId({ action: CaAction.add, ca: late.on });
  await h.ok(h.gov(vals[0]!, 'proposeAddCa', { ca: late.on }), h.gov(vals[1]!, 'approve', { proposal: id }));
  await h.ok(h.id(late.offline, 'submitPublicKey', { addr: late.on, keyType: late.online.type, pub: late.online.publicKey, pop: (await import('../../../../protocols/identity/index.js')).signPop(late.online, CHAIN_ID, late.id) }));
  await h.refused(h.gov(vals[2]!, 'approve', { proposal: id }), VALIDATORS_ERR.BAD_CA, /online key/, 'the final approval of a now-invalid change');
  t.equal(await isCa(h, late.on), false);
});

t.test('open CA proposals lapse when the validator set changes', async (t) => {
  const h = await harness(t);
  const caId = caProposalId({ action: CaAction.add, ca: ca.id });
  await h.ok(h.gov(vals[0]!, 'proposeAddCa', { ca: ca.id }), h.gov(vals[1]!, 'approve', { proposal: caId }));

  const newSet: Validator[] = vals.map((k, i) => ({ name: `v${i}`, consensusKey: k.publicKey, peerId: `peer-${i}`, power: 1 }));
  const setId = proposalId(newSet);
  await h.ok(h.gov(vals[0]!, 'propose', { validators: newSet }), h.gov(vals[1]!, 'approve', { proposal: setId }), h.gov(vals[2]!, 'approve', { proposal: setId }));
  await h.ok();
  await h.ok();
  t.equal(h.c.app.info().validators.length, 5, 'the five-member set is in force');
  t.equal(await h.provenQuery('validators/proposal', { proposal: toHex(caId) }), null, 'the CA proposal lapsed');
  await h.refused(h.gov(vals[2]!, 'approve', { proposal: caId }), VALIDATORS_ERR.UNKNOWN_PROPOSAL, /no open proposal/, 'approving a lapsed proposal');

  // proposed afresh, it needs a quorum of the new set: 4 of 5
  await h.ok(h.gov(vals[4]!, 'proposeAddCa', { ca: ca.id }), h.gov(vals[0]!, 'approve', { proposal: caId }), h.gov(vals[1]!, 'approve', { proposal: caId }));
  t.equal(await isCa(h, ca.id), false, 'three of five: not yet');
  await h.ok(h.gov(vals[3]!, 'approve', { proposal: caId }));
  t.equal(await isCa(h, ca.id), true, 'four of five: added');
});
