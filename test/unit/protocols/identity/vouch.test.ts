// Identity: web-of-trust vouches, incentives shared pro rata (exact), unbonding, and the
// reputation cost for vouchers of a key that is later closed.
import t from 'tap';
import { Harness, entity, keyArgs, toHex, testKey, FAST_IDENTITY_PARAMS as P, type Entity } from './helpers.js';
import { IDENTITY_ERR, IDENTITY_ESCROW } from '../../../../protocols/identity/index.js';
import { SWEEP_CAP } from '../../../../protocols/identity/endBlock.js';
import { accrue, pendingReward, trustLevel, ACC_SCALE } from '../../../../protocols/identity/incentives.js';
import { moduleAddress } from '../../../../protocols/bank/index.js';
import { SCORE_ONE } from '../../../../protocols/reputation/index.js';
import { ERR } from '../../../../lib/errors.js';
import { prng, randInt } from '../../../utils/prng.js';

const gw = entity('gateway');
const a = entity('voucher-a');
const b = entity('voucher-b');
const c = entity('voucher-c');
const stranger = entity('stranger');

const incentiveEscrow = moduleAddress(IDENTITY_ESCROW.incentives);
const stakeEscrow = moduleAddress(IDENTITY_ESCROW.stakes);

t.test('incentive streams linearly and is shared pro rata to stake, exactly', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, a.offline, b.offline] });
  await h.register(gw, a, b);
  await h.ok(h.id(gw.offline, 'addIncentive', { reward: 1000n }));
  t.equal(h.balance(incentiveEscrow), 1000n);
  // nobody stakes yet: the stream waits (its end moves with the idle time)
  await h.ok(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 100n }));
  const t3 = h.time;
  await h.ok(h.id(b.offline, 'vouchKey', { addr: gw.on, bet: 300n }));
  // 1 s of a 10 s stream went to A alone: 100; the remaining 900 go 1:3
  t.match(await h.provenQuery('identity/getVouch', { voucher: toHex(a.id), target: toHex(gw.on) }), { stake: '100', claimable: '100' });
  h.advance(t3 + P.incentivePeriodMs - h.nextTime);
  await h.ok();
  t.match(await h.query('identity/getVouch', { voucher: toHex(a.id), target: toHex(gw.id) }), { claimable: '325' });
  t.match(await h.query('identity/getVouch', { voucher: toHex(b.id), target: toHex(gw.id) }), { claimable: '675' });
  const [ba, bb] = [h.balance(a.id), h.balance(b.id)];
  await h.ok(h.id(a.offline, 'claimIncentive', { addr: gw.on }), h.id(b.offline, 'claimIncentive', { addr: gw.id }));
  t.equal(h.balance(a.id) - ba, 325n);
  t.equal(h.balance(b.id) - bb, 675n);
  t.equal(h.balance(incentiveEscrow), 0n, 'the split sums exactly to the pool');
  await h.refused(h.id(a.offline, 'claimIncentive', { addr: gw.on }), IDENTITY_ERR.NOTHING_TO_CLAIM, undefined, 'claim twice');
  const trust = await h.provenQuery('identity/getTrust', { addr: toHex(gw.on) });
  t.match(trust, { offline: toHex(gw.id), keyState: 'active', stake: '400', vouchers: 2, level: trustLevel(400n, 100n) });
  t.equal(trust.level, 3, 'level = bit length of stake / trustUnit (400/100 = 4 → 3)');
});

t.test('vouch refusals leave state unchanged', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, a.offline, a.online, stranger.offline] });
  await h.register(gw, a);
  await h.refused(h.id(a.offline, 'vouchKey', { addr: a.on, bet: 100n }), IDENTITY_ERR.SELF_VOUCH, undefined, 'self vouch');
  await h.refused(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 9n }), IDENTITY_ERR.BET_TOO_SMALL, undefined, 'bet below minimum');
  await h.refused(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 0n }), ERR.BAD_ARGS, /bet must be positive/, 'zero bet');
  await h.refused(h.id(a.offline, 'vouchKey', { addr: stranger.on, bet: 100n }), IDENTITY_ERR.KEY_NOT_REGISTERED, undefined, 'unregistered key');
  await h.refused(h.id(a.offline, 'vouchKey', { addr: gw.id, bet: 100n }), IDENTITY_ERR.KEY_NOT_REGISTERED, undefined, 'an offline address is not an online key');
  await h.refused(h.id(stranger.offline, 'vouchKey', { addr: gw.on, bet: 100n }), IDENTITY_ERR.NOT_REGISTERED, /voucher/, 'unregistered voucher');
  await h.refused(h.id(a.online, 'vouchKey', { addr: gw.on, bet: 100n }), ERR.WRONG_SIGNER, undefined, 'vouch signed by an online key');
  await h.refused(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 2_000_000n }), 'BANK_INSUFFICIENT_FUNDS', undefined, 'bet above balance');
  await h.refused(h.id(a.offline, 'unvouchKey', { addr: gw.on }), IDENTITY_ERR.NO_VOUCH, undefined, 'unvouch without vouch');
  await h.refused(h.id(a.offline, 'claimIncentive', { addr: gw.on }), IDENTITY_ERR.NO_VOUCH, undefined, 'claim without vouch');
  await h.refused(h.id(a.offline, 'addIncentive', { reward: 0n }), ERR.BAD_ARGS, /reward must be positive/, 'zero incentive');
  await h.refused(h.id(stranger.offline, 'addIncentive', { reward: 10n }), IDENTITY_ERR.NOT_REGISTERED, undefined, 'incentive for an unregistered identity');
  // a rotated key: vouch for the current one
  await h.ok(h.id(gw.offline, 'updatePublicKey', keyArgs(gw.id, testKey('gw-2'))));
  await h.refused(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 100n }), IDENTITY_ERR.KEY_REVOKED, /replaced/, 'vouch for a revoked key');
  await h.ok(h.id(gw.offline, 'closePublicKey', {}));
  await h.refused(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 100n }), IDENTITY_ERR.CLOSED, undefined, 'vouch for a closed identity');
});

t.test('vouches attach to the identity: a key rotation keeps them', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, a.offline] });
  await h.register(gw, a);
  await h.ok(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 200n }));
  const next = testKey('gw-rotated');
  await h.ok(h.id(gw.offline, 'updatePublicKey', keyArgs(gw.id, next)));
  const tr = await h.query('identity/getTrust', { addr: toHex(keyArgs(gw.id, next).addr) });
  t.match(tr, { keyState: 'active', stake: '200', vouchers: 1 });
  t.match(await h.query('identity/getTrust', { addr: toHex(gw.on) }), { keyState: 'revoked', stake: '200' });
});

t.test('unvouch: rewards paid at once, stake returned after the unbonding delay by the end-of-block hook', async (t) => {
  const h = await Harness.create(t, { funded: [gw.offline, a.offline] });
  await h.register(gw, a);
  const start = h.balance(a.id);
  await h.ok(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 100n }), h.id(gw.offline, 'addIncentive', { reward: 50n }));
  h.advance(P.incentivePeriodMs);
  await h.ok(h.id(a.offline, 'unvouchKey', { addr: gw.on }));
  const unvouchedAt = h.time;
  t.equal(h.balance(a.id), start - 100n + 50n, 'reward paid, stake held');
  t.match(await h.query('identity/getVouch', { voucher: toHex(a.id), target: toHex(gw.id) }), { stake: '0', unbonding: { amount: '100', due: unvouchedAt + P.unbondingMs } });
  t.match(await h.query('identity/getTrust', { addr: toHex(gw.on) }), { stake: '0', vouchers: 0 });
  h.advance(unvouchedAt + P.unbondingMs - 1 - h.nextTime);
  await h.ok();
  t.equal(h.balance(a.id), start - 50n, 'not yet: 1 ms before due');
  await h.ok();
  t.equal(h.balance(a.id), start + 50n, 'stake back at due');
  t.equal(h.balance(stakeEscrow), 0n);
});

t.test('closePublicKey costs the vouchers reputation in proportion to their bet; stakes unbond; pool back to owner', async (t) => {
  const unbondingMs = 20_000;
  const h = await Harness.create(t, { funded: [gw.offline, a.offline, b.offline, c.offline], identityParams: { unbondingMs } });
  await h.register(gw, a, b, c);
  await h.ok(
    h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 1000n }),
    h.id(b.offline, 'vouchKey', { addr: gw.on, bet: 3000n }),
    h.id(c.offline, 'vouchKey', { addr: gw.on, bet: 500n }),
  );
  await h.ok(h.id(c.offline, 'unvouchKey', { addr: gw.on }), h.id(gw.offline, 'addIncentive', { reward: 900n }));
  const gwBefore = h.balance(gw.id);
  h.advance(P.incentivePeriodMs / 2 - 1000); // half the stream
  await h.ok(h.id(gw.offline, 'closePublicKey', {}));
  const closedAt = h.time;
  // released by now: 450 to A:B = 1:3 (112 + 337, 1 unit of dust); the unreleased 450 back to the
  // owner, and, once the sweep (same block) has unwound every vouch, the dust too
  t.equal(h.balance(gw.id) - gwBefore, 451n, 'unreleased pool and dust refunded to the owner');
  // the sweep ran in the same block: A and B penalized (10 points per 1000 staked), stakes unbonding
  const rep = async (e: Entity) => (await h.query('reputation/getReputation', { name: null, addr: toHex(e.id) })) as { negative: string; negatives: number };
  t.equal(BigInt((await rep(a)).negative), 10n * SCORE_ONE, 'A: 1000 staked → 10 points');
  t.equal(BigInt((await rep(b)).negative), 30n * SCORE_ONE, 'B: 3000 staked → 30 points');
  t.equal((await rep(c)).negatives, 0, 'C unvouched before the close: penalized only when its unbonding ends');
  t.match(await h.query('identity/getTrust', { addr: toHex(gw.on) }), { keyState: 'closed', stake: '0', vouchers: 0 });
  t.match(await h.query('identity/getVouch', { voucher: toHex(a.id), target: toHex(gw.id) }), { stake: '0', unbonding: { amount: '1000', due: closedAt + unbondingMs } });
  t.equal(h.balance(incentiveEscrow), 0n, 'rewards paid, dust returned to the owner');
  // C's unbonding (started before the close) ends: still liable → penalized then
  h.advance(unbondingMs);
  await h.ok();
  const cRep = await rep(c);
  t.equal(cRep.negatives, 1);
  t.ok(BigInt(cRep.negative) > 4n * SCORE_ONE && BigInt(cRep.negative) <= 5n * SCORE_ONE, 'C: 500 staked → 5 points (penalty applied when its unbonding ended, decayed only by the time since)');
  t.equal(h.balance(stakeEscrow), 0n, 'every stake returned');
});

t.test(`the closure sweep is capped at ${SWEEP_CAP} vouches per block and resumes from state`, async (t) => {
  const n = SWEEP_CAP + 8;
  const vs = Array.from({ length: n }, (_, i) => entity(`v-${i}`));
  const h = await Harness.create(t, { funded: [gw.offline, ...vs.map((v) => v.offline)] });
  await h.register(gw, ...vs);
  await h.ok(...vs.map((v) => h.id(v.offline, 'vouchKey', { addr: gw.on, bet: 100n })));
  await h.ok(h.id(gw.offline, 'closePublicKey', {}));
  t.match(await h.query('identity/getTrust', { addr: toHex(gw.id) }), { vouchers: 8 }, `${SWEEP_CAP} unwound in the closing block`);
  await h.ok();
  t.match(await h.query('identity/getTrust', { addr: toHex(gw.id) }), { vouchers: 0, stake: '0' }, 'the rest in the next block');
});

t.test('dust: rounding remainders stay with the target and are streamed to the next vouchers', async (t) => {
  // pure accounting: 3 stakers of 1, 1, 1 share 100 → 33 each, 1 unit of dust
  let tgt = { totalStake: 3n, vouchers: 3, pool: 100n, streamEnd: 10, lastAccrual: 0, acc: 0n, held: 100n };
  tgt = accrue(tgt, 10, false);
  const v = { stake: 1n, accSnapshot: 0n, since: 1 };
  t.equal(pendingReward(v, tgt), 33n);
  t.equal(tgt.acc, (100n * ACC_SCALE) / 3n);
  const h = await Harness.create(t, { funded: [gw.offline, a.offline, b.offline, c.offline] });
  await h.register(gw, a, b, c);
  await h.ok(...[a, b, c].map((e) => h.id(e.offline, 'vouchKey', { addr: gw.on, bet: 10n })));
  await h.ok(h.id(gw.offline, 'addIncentive', { reward: 100n }));
  h.advance(P.incentivePeriodMs);
  await h.ok(...[a, b, c].map((e) => h.id(e.offline, 'unvouchKey', { addr: gw.on })));
  t.equal(h.balance(incentiveEscrow), 1n, 'one unit of dust stays held for the target');
  await h.ok(h.id(a.offline, 'vouchKey', { addr: gw.on, bet: 10n }));
  await h.ok(h.id(a.offline, 'claimIncentive', { addr: gw.on }));
  t.equal(h.balance(incentiveEscrow), 0n, 'the next voucher receives it');
});

t.test('seeded random vouch/unvouch/claim/incentive/close: invariants and conservation after every block', async (t) => {
  const rand = prng(20240601);
  const targets = Array.from({ length: 3 }, (_, i) => entity(`rt-${i}`));
  const vouchers = Array.from({ length: 6 }, (_, i) => entity(`rv-${i}`));
  const h = await Harness.create(t, { funded: [...targets, ...vouchers].map((e) => e.offline) });
  await h.register(...targets, ...vouchers);
  const all = [...targets, ...vouchers];
  const total = () => all.reduce((s, e) => s + h.balance(e.id), 0n) + h.balance(incentiveEscrow) + h.balance(stakeEscrow);
  const supply = total();
  const closed = new Set<number>();
  const succeeded = new Map<string, number>();
  for (let blk = 0; blk < 40; blk++) {
    const txs: Uint8Array[] = [];
    const ops: string[] = [];
    for (let k = 0; k < 4; k++) {
      const ti = randInt(rand, targets.length);
      const tg = targets[ti]!;
      const v = vouchers[randInt(rand, vouchers.length)]!;
      const op = randInt(rand, 10);
      if (op < 4) txs.push(h.id(v.offline, 'vouchKey', { addr: tg.on, bet: BigInt(10 + randInt(rand, 500)) }));
      else if (op < 6) txs.push(h.id(v.offline, 'unvouchKey', { addr: tg.id }));
      else if (op < 8) txs.push(h.id(v.offline, 'claimIncentive', { addr: tg.on }));
      else if (op < 9) txs.push(h.id(tg.offline, 'addIncentive', { reward: BigInt(1 + randInt(rand, 997)) }));
      else if (blk > 25 && !closed.has(ti)) {
        closed.add(ti);
        txs.push(h.id(tg.offline, 'closePublicKey', {}));
      } else continue;
      ops.push(['vouch', 'vouch', 'vouch', 'vouch', 'unvouch', 'unvouch', 'claim', 'claim', 'incentive', 'close'][op]!);
    }
    h.advance(randInt(rand, 3000));
    const results = await h.block(txs); // invariants (identity, reputation, bank conservation) checked inside
    results.forEach((r, i) => r.code === '' && succeeded.set(ops[i]!, (succeeded.get(ops[i]!) ?? 0) + 1));
    t.equal(total(), supply, `block ${blk}: coins conserved among the entities and the two escrows`);
  }
  for (const op of ['vouch', 'unvouch', 'claim', 'incentive', 'close']) t.ok((succeeded.get(op) ?? 0) > 0, `some ${op} succeeded (${succeeded.get(op)})`);
  h.advance(P.unbondingMs + P.incentivePeriodMs);
  await h.ok();
  t.same(await h.invariants(), []);
});
