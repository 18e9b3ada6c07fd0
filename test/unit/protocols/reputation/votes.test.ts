// Reputation: voteDomain with session proofs or deposits, the notary, periods, decay over time,
// and the generic vote hook for other modules.
import t, { type Test } from 'tap';
import { Harness, entity, keyArgs, toHex, testKey, KeyType, CHAIN_ID, FAST_REPUTATION_PARAMS as R, type Entity } from '../identity/helpers.js';
import { signSessionProof, exporterHash, SCORE_ONE, REPUTATION_ERR, REPUTATION_ESCROW, makeReputationKeeper, reputationKeeper, type SessionProof } from '../../../../protocols/reputation/index.js';
import { bankKeeper, moduleAddress, readAccount, FEE_COLLECTOR } from '../../../../protocols/bank/index.js';
import { ReputationReader } from '../../../../protocols/reputation/store.js';
import { Overlay } from '../../../../state/overlay.js';
import { storeAccess } from '../../../../protocols/execute.js';
import { scopedReader, type ReaderAccess } from '../../../../protocols/module.js';
import { ERR } from '../../../../lib/errors.js';
import { prng, randInt } from '../../../utils/prng.js';

const gw = entity('gateway');
const svc = entity('service', KeyType.p256); // P-256 online key
const other = entity('other-service');
const notary = entity('notary');
const NAME = 'gateway.bit';
const rand = prng(7);
const randomBytes = () => Uint8Array.from({ length: 32 }, () => randInt(rand, 256));

/** A session proof as the gateway would sign it after a TLS session with `voter`. */
function proof(h: Harness, voter: Entity, opts: { key?: typeof gw.online; name?: string; clientTime?: number; serverTime?: number } = {}): SessionProof {
  const time = h.nextTime;
  return signSessionProof(opts.key ?? gw.online, CHAIN_ID, opts.name ?? NAME, voter.id, {
    clientRandom: randomBytes(),
    serverRandom: randomBytes(),
    clientTime: opts.clientTime ?? time - 500,
    serverTime: opts.serverTime ?? time - 400,
    exporterHash: exporterHash(randomBytes()),
  });
}

async function setup(t: Test) {
  const h = await Harness.create(t, { funded: [gw.offline, svc.offline, svc.online, other.offline, other.online, notary.offline], notary: notary.id });
  await h.register(gw, svc, other, notary);
  await h.registerName(NAME, gw);
  return h;
}

const rep = async (h: Harness, args: { name?: string; addr?: Uint8Array }, proven = false) => {
  const a = { name: args.name ?? null, addr: args.addr ? toHex(args.addr) : null };
  return (proven ? await h.provenQuery('reputation/getReputation', a) : await h.query('reputation/getReputation', a)) as {
    found: boolean;
    identity: string;
    positive: string;
    negative: string;
    score: string;
    ratioPpm: number;
    positives: number;
    negatives: number;
  };
};

t.test('a positive vote with a valid session proof raises the gateway’s score; fee paid', async (t) => {
  const h = await setup(t);
  const fees = h.balance(moduleAddress(FEE_COLLECTOR));
  const before = h.balance(svc.on);
  await h.ok(h.rep(svc.online, 'voteDomain', { name: NAME, score: 8, proof: proof(h, svc) }));
  t.equal(before - h.balance(svc.on), BigInt(R.voteFee), 'the voting key’s account pays the fee');
  t.equal(h.balance(moduleAddress(FEE_COLLECTOR)) - fees, BigInt(R.voteFee));
  const byName = await rep(h, { name: NAME }, true);
  t.match(byName, { found: true, identity: toHex(gw.id), positive: (8n * SCORE_ONE).toString(), negative: '0', positives: 1, ratioPpm: 900_000 });
  t.same(await rep(h, { addr: gw.id }, true), { ...byName, name: null, nameState: null }, 'by offline address');
  t.match(await rep(h, { addr: gw.on }), { identity: toHex(gw.id) }, 'an online address maps to its identity');
  t.match(await h.query('reputation/hasVoted', { voter: toHex(svc.id), target: toHex(gw.id) }), { voted: true });
  // the score decays: one half-life later it is halved
  h.advance(R.halfLifeMs - 1000);
  await h.ok();
  t.equal((await rep(h, { name: NAME })).positive, (4n * SCORE_ONE).toString());
  // and a rotation of the gateway's key keeps its reputation (it belongs to the offline identity)
  await h.ok(h.id(gw.offline, 'updatePublicKey', keyArgs(gw.id, testKey('gw-rotated'))));
  t.equal((await rep(h, { name: NAME })).positives, 1);
});

t.test('vote refusals: no proof, bad proof, another voter’s proof, stale, reused, twice in a period — state unchanged', async (t) => {
  const h = await setup(t);
  // `null` = no proof (undefined would take the default)
  const vote = (k = svc.online, score = 5, p: SessionProof | null = proof(h, svc), name = NAME) => h.rep(k, 'voteDomain', { name, score, proof: p ?? undefined });
  await h.refused(vote(svc.online, 5, null), ERR.BAD_ARGS, /must carry the gateway’s session proof/, 'positive vote without proof');
  await h.refused(vote(svc.online, -5, proof(h, svc)), ERR.BAD_ARGS, /deposit, not a proof/, 'negative vote with a proof');
  await h.refused(vote(svc.online, 0, null), ERR.BAD_ARGS, /not be 0/, 'zero score');
  await h.refused(vote(svc.online, R.maxScore + 1), REPUTATION_ERR.BAD_SCORE, undefined, 'score above maximum');
  await h.refused(vote(svc.online, 5, proof(h, svc, { key: testKey('not-the-gateway') })), REPUTATION_ERR.BAD_PROOF, /signature/, 'proof signed by another key');
  await h.refused(vote(other.online, 5, proof(h, svc)), REPUTATION_ERR.BAD_PROOF, undefined, 'proof for another voter');
  await h.refused(vote(svc.online, 5, proof(h, svc, { name: 'other.bit' })), REPUTATION_ERR.BAD_PROOF, undefined, 'proof for another name');
  const tampered = { ...proof(h, svc), serverRandom: new Uint8Array(32) };
  await h.refused(vote(svc.online, 5, tampered), REPUTATION_ERR.BAD_PROOF, undefined, 'tampered evidence');
  await h.refused(vote(svc.online, 5, proof(h, svc, { serverTime: h.nextTime - R.proofMaxAgeMs - 1 })), REPUTATION_ERR.PROOF_STALE, /old/, 'stale proof');
  await h.refused(vote(svc.online, 5, proof(h, svc, { clientTime: h.nextTime + R.proofMaxFutureMs + 1 })), REPUTATION_ERR.PROOF_STALE, /ahead/, 'proof from the future');
  await h.refused(vote(svc.online, 5, proof(h, svc), 'nope.bit'), REPUTATION_ERR.NAME_UNUSABLE, /unregistered/, 'unknown name');
  await h.refused(vote(gw.online, 5, proof(h, gw)), REPUTATION_ERR.SELF_VOTE, undefined, 'gateway votes for itself');
  await h.refused(vote(svc.offline), ERR.WRONG_SIGNER, /online key/, 'vote signed by the offline key');
  const good = proof(h, svc);
  await h.ok(vote(svc.online, 5, good));
  await h.refused(vote(svc.online, 3, proof(h, svc)), REPUTATION_ERR.ALREADY_VOTED, /already voted/, 'second vote in the period');
  await h.refused(vote(svc.online, -3, null), REPUTATION_ERR.ALREADY_VOTED, undefined, 'second (negative) vote in the period');
  // next period: a new session may be voted on, but the old proof cannot be reused
  h.advance(R.periodMs - (h.nextTime % R.periodMs));
  await h.ok(); // first block of the next period (its end-of-block hook forgets last period's markers)
  await h.refused(vote(svc.online, 5, good), REPUTATION_ERR.PROOF_STALE, undefined, 'old proof in a later period (stale)');
  await h.ok(vote(svc.online, 5, proof(h, svc)));
});

t.test('a proof cannot be replayed even inside its freshness window; revoked keys refused', async (t) => {
  const h = await setup(t);
  h.advance(R.periodMs - (h.nextTime % R.periodMs) - 2000); // 2 s before the end of a period
  const p = proof(h, svc, { serverTime: h.nextTime, clientTime: h.nextTime });
  await h.ok(h.rep(svc.online, 'voteDomain', { name: NAME, score: 2, proof: p }));
  // cross into the next period while the proof is still fresh
  await h.ok(), await h.ok();
  t.ok(h.nextTime - p.serverTime <= R.proofMaxAgeMs, 'still fresh');
  await h.refused(h.rep(svc.online, 'voteDomain', { name: NAME, score: 2, proof: p }), REPUTATION_ERR.PROOF_REUSED, undefined, 'replayed proof');
  // the gateway rotates its key: a proof made with the old key no longer counts
  await h.ok(h.id(gw.offline, 'updatePublicKey', keyArgs(gw.id, testKey('gw-next'))));
  await h.refused(h.rep(svc.online, 'voteDomain', { name: NAME, score: 2, proof: proof(h, svc) }), REPUTATION_ERR.BAD_PROOF, undefined, 'proof by the revoked gateway key');
  // the voter rotates its key: the revoked one cannot vote
  await h.ok(h.id(svc.offline, 'updatePublicKey', keyArgs(svc.id, testKey('svc-next'))));
  await h.refused(h.rep(svc.online, 'voteDomain', { name: NAME, score: -2, proof: undefined }), ERR.WRONG_SIGNER, /revoked/, 'vote by a revoked voter key');
  // the gateway closes: its name is unusable, nobody can vote on it
  await h.ok(h.id(gw.offline, 'closePublicKey', {}));
  await h.refused(h.rep(other.online, 'voteDomain', { name: NAME, score: -2, proof: undefined }), REPUTATION_ERR.NAME_UNUSABLE, /owner-closed/, 'vote on a closed owner’s name');
});

t.test('negative vote: deposit escrowed, refunded to the voter’s identity after the window', async (t) => {
  const h = await setup(t);
  const escrow = moduleAddress(REPUTATION_ESCROW.deposits);
  await h.ok(h.rep(svc.online, 'voteDomain', { name: NAME, score: -4, proof: undefined }));
  const votedAt = h.time;
  t.equal(h.balance(escrow), BigInt(R.negativeDeposit));
  t.match(await rep(h, { name: NAME }), { negative: (4n * SCORE_ONE).toString(), negatives: 1, ratioPpm: 166_666 }); // (0 + 1) / (0 + 4 + 2)
  const offlineBefore = h.balance(svc.id);
  h.advance(votedAt + R.depositWindowMs - h.nextTime);
  await h.ok();
  t.equal(h.balance(escrow), 0n);
  t.equal(h.balance(svc.id) - offlineBefore, BigInt(R.negativeDeposit), 'refund to the offline identity');
  t.equal((await rep(h, { name: NAME })).negatives, 1, 'the vote stands');
});

t.test('the notary forfeits a false negative vote’s deposit: paid to the target, weight taken back; others cannot', async (t) => {
  const h = await setup(t);
  const escrow = moduleAddress(REPUTATION_ESCROW.deposits);
  await h.ok(h.rep(svc.online, 'voteDomain', { name: NAME, score: -6, proof: undefined }));
  const voteId = h.lastIds[0]!; // a negative vote is identified by its transaction id
  t.match(await h.provenQuery('reputation/deposit', { voteId: toHex(voteId) }), { found: true, voter: toHex(svc.id), target: toHex(gw.id), amount: R.negativeDeposit });
  await h.refused(h.rep(other.online, 'forfeitDeposit', { voteId }), REPUTATION_ERR.NOT_NOTARY, undefined, 'forfeit by a non-notary');
  await h.refused(h.rep(gw.offline, 'forfeitDeposit', { voteId }), REPUTATION_ERR.NOT_NOTARY, undefined, 'forfeit by the target itself');
  await h.refused(h.rep(notary.offline, 'forfeitDeposit', { voteId: new Uint8Array(32) }), REPUTATION_ERR.NO_DEPOSIT, undefined, 'unknown vote');
  const gwBefore = h.balance(gw.id);
  // the notary acts with its current online key ('any' signer → its identity)
  await h.ok(h.rep(notary.online, 'forfeitDeposit', { voteId }));
  t.equal(h.balance(gw.id) - gwBefore, BigInt(R.negativeDeposit), 'deposit to the wronged target');
  t.equal(h.balance(escrow), 0n);
  t.match(await rep(h, { name: NAME }), { negative: '0', negatives: 0 });
  await h.refused(h.rep(notary.offline, 'forfeitDeposit', { voteId }), REPUTATION_ERR.NO_DEPOSIT, undefined, 'forfeit twice');
  // after the window the deposit is gone: nothing left to forfeit
  await h.ok(h.rep(other.online, 'voteDomain', { name: NAME, score: -1, proof: undefined }));
  h.advance(R.depositWindowMs);
  await h.ok();
  t.equal(h.balance(escrow), 0n, 'refunded');
});

t.test('getReputation argument checks', async (t) => {
  const h = await setup(t);
  await t.rejects(h.query('reputation/getReputation', { name: NAME, addr: toHex(gw.id) }), { code: REPUTATION_ERR.BAD_QUERY });
  await t.rejects(h.query('reputation/getReputation', { name: null, addr: null }), { code: REPUTATION_ERR.BAD_QUERY });
  t.match(await rep(h, { name: 'nope.bit' }), { found: false });
  t.match(await rep(h, { addr: entity('nobody').id }), { found: true, positive: '0', ratioPpm: 500_000 });
});

t.test('generic vote hook (castVote) and penalties, as other modules will use them', async (t) => {
  const h = await setup(t);
  const overlay = new Overlay(h.c.store);
  const access = storeAccess(overlay);
  const bank = { ...bankKeeper, escrowBalance: (a: ReaderAccess, m: string) => readAccount(a, moduleAddress(m)).balance, feeSink: FEE_COLLECTOR };
  const keeper = makeReputationKeeper(bank);
  const events: string[] = [];
  const emit = (type: string) => void events.push(type);
  const job = new Uint8Array(32).fill(3);
  const vote = (score: number, voter = svc.id) => keeper.castVote(access, { voter, target: other.id, score, interaction: job, payer: svc.on, time: h.nextTime }, emit);
  vote(3);
  t.throws(() => vote(2), { code: REPUTATION_ERR.ALREADY_VOTED }, 'one vote per (voter, target, period)');
  t.throws(() => vote(3, other.id), { code: REPUTATION_ERR.SELF_VOTE });
  t.throws(() => vote(R.maxScore + 1, gw.id), { code: REPUTATION_ERR.BAD_SCORE });
  reputationKeeper.penalize(access, other.id, 3n, 2n, h.nextTime);
  const s = new ReputationReader(scopedReader(overlay, 3)).score(other.id);
  t.match(s, { pos: 3n * SCORE_ONE, neg: (3n * SCORE_ONE) / 2n, positives: 1, negatives: 1 });
  t.same(events, ['vote']);
});
