// Identity transaction handlers (SPEC §5.1). Each does its stateful checks, then writes and emits.
// The signer role of each method is declared in index.ts and enforced before the handler runs
// (keeper.ts resolveSigner): `ctx.identity` is the offline identity, `ctx.sender` the signing key
// (the account that pays).
import { ProtocolError } from '../../lib/errors.js';
import { bytesEqual, concatBytes, toHex } from '../../lib/hex.js';
import type { Handler, StoreAccess, TxContext } from '../module.js';
import { IdentityStore } from './store.js';
import { IDENTITY_ERR } from './errors.js';
import { ESCROW, type IdentityDeps } from './deps.js';
import { JOB } from './keys.js';
import { verifyPop, nameCommitment } from './messages.js';
import { accrue, addToPool, pendingReward, foldDust } from './incentives.js';
import { nameState } from './status.js';
import { NameMode, type IdentityMsgs, type IdentityRecord, type KeyArgs, type TargetStake, type Vouch } from './types.js';

type Handlers = { [K in keyof IdentityMsgs]: Handler<IdentityMsgs[K]> };

function fail(code: string, message: string): never {
  throw new ProtocolError(code, message);
}

/** The registered, not closed identity of `offline`. */
export function openIdentity(s: IdentityStore, offline: Uint8Array, who = 'sender'): IdentityRecord {
  const rec = s.identity(offline);
  if (!rec) fail(IDENTITY_ERR.NOT_REGISTERED, `${who} ${toHex(offline)} has no registered identity (submitPublicKey first)`);
  if (rec.closedAt !== undefined) fail(IDENTITY_ERR.CLOSED, `${who} ${toHex(offline)} closed its identity at height ${rec.closedAt}`);
  return rec;
}

/** A new online key: never used before by anyone, not an identity or CA address, and held by its submitter (pop). */
function checkNewOnlineKey(s: IdentityStore, a: KeyArgs, offline: Uint8Array, chainId: string): void {
  if (bytesEqual(a.addr, offline)) fail(IDENTITY_ERR.KEY_TAKEN, 'the online key must differ from the offline key');
  const owner = s.onlineOwner(a.addr);
  if (owner) {
    fail(
      IDENTITY_ERR.KEY_TAKEN,
      bytesEqual(owner, offline)
        ? `online key ${toHex(a.addr)} was already registered by this identity (an online key is never reused)`
        : `online key ${toHex(a.addr)} is already registered by another identity`,
    );
  }
  if (s.identity(a.addr)) fail(IDENTITY_ERR.KEY_TAKEN, `${toHex(a.addr)} is a registered offline identity and cannot be an online key`);
  if (s.ca(a.addr)) fail(IDENTITY_ERR.KEY_TAKEN, `${toHex(a.addr)} is a CA address and cannot be an online key`);
  if (!verifyPop(a.keyType, a.pub, chainId, offline, a.pop)) {
    fail(IDENTITY_ERR.BAD_POP, 'pop is not the online key’s signature over (chain id, offline address): nobody may register a key they do not hold');
  }
}

/** Resolves a target given as an online address (current or revoked) or as an offline address. */
export function targetOf(s: IdentityStore, addr: Uint8Array): Uint8Array {
  return s.onlineOwner(addr) ?? addr;
}

export function makeHandlers(deps: IdentityDeps): Handlers {
  const bank = deps.bank;

  function payReward(ctx: TxContext, t: TargetStake, v: Vouch, voucher: Uint8Array): TargetStake {
    const pending = pendingReward(v, t);
    if (pending === 0n) return t;
    bank.escrowRelease(ctx.access, ESCROW.incentives, voucher, pending);
    ctx.emit('incentivePaid', { voucher, amount: pending });
    return { ...t, held: t.held - pending };
  }

  function payFee(ctx: TxContext, fee: bigint): void {
    if (fee > 0n) bank.escrowDeposit(ctx.access, bank.feeSink, ctx.sender, fee);
  }

  return {
    submitPublicKey(ctx, a) {
      const s = new IdentityStore(ctx.state);
      const offline = ctx.identity;
      const existing = s.identity(offline);
      if (existing?.closedAt !== undefined) fail(IDENTITY_ERR.CLOSED, `identity ${toHex(offline)} was closed at height ${existing.closedAt} (irrevocable)`);
      if (existing) fail(IDENTITY_ERR.ALREADY_REGISTERED, `identity ${toHex(offline)} is already registered (use updatePublicKey to rotate its online key)`);
      checkNewOnlineKey(s, a, offline, ctx.chainId);
      const h = ctx.block.height;
      s.setIdentity(offline, { online: a.addr, keyType: a.keyType, pub: a.pub, registeredAt: h, historyLength: 1, closedAt: undefined });
      s.setHistoryEntry(offline, 0, { online: a.addr, keyType: a.keyType, pub: a.pub, from: h, to: undefined });
      s.setOnlineOwner(a.addr, offline);
      ctx.emit('keyRegistered', { offline, online: a.addr });
    },

    updatePublicKey(ctx, a) {
      const s = new IdentityStore(ctx.state);
      const offline = ctx.identity;
      const rec = openIdentity(s, offline);
      checkNewOnlineKey(s, a, offline, ctx.chainId);
      const h = ctx.block.height;
      const lastIndex = rec.historyLength - 1;
      const last = s.historyEntry(offline, lastIndex)!;
      s.setHistoryEntry(offline, lastIndex, { ...last, to: h });
      s.setHistoryEntry(offline, rec.historyLength, { online: a.addr, keyType: a.keyType, pub: a.pub, from: h, to: undefined });
      s.setIdentity(offline, { ...rec, online: a.addr, keyType: a.keyType, pub: a.pub, historyLength: rec.historyLength + 1 });
      s.setOnlineOwner(a.addr, offline);
      ctx.emit('keyUpdated', { offline, online: a.addr, revoked: rec.online, height: h });
    },

    closePublicKey(ctx) {
      const s = new IdentityStore(ctx.state);
      const offline = ctx.identity;
      const rec = openIdentity(s, offline);
      const h = ctx.block.height;
      const now = ctx.block.time;
      const lastIndex = rec.historyLength - 1;
      s.setHistoryEntry(offline, lastIndex, { ...s.historyEntry(offline, lastIndex)!, to: h });
      s.setIdentity(offline, { ...rec, closedAt: h });
      // Incentives: vouchers keep what was released up to now; the rest of the pool goes back to
      // the owner. Vouches are unwound by the end-of-block sweep (penalties, stakes to unbonding).
      let t = accrue(s.target(offline), now, false);
      const refund = t.vouchers === 0 ? t.held : t.pool;
      if (refund > 0n) bank.escrowRelease(ctx.access, ESCROW.incentives, offline, refund);
      t = { ...t, pool: 0n, held: t.held - refund };
      s.setTarget(offline, t);
      if (t.vouchers > 0) s.enqueue(now, JOB.CLOSE_SWEEP, offline);
      ctx.emit('keyClosed', { offline, online: rec.online, height: h, vouchers: t.vouchers });
    },

    addIncentive(ctx, { reward }) {
      const s = new IdentityStore(ctx.state);
      const offline = ctx.identity;
      openIdentity(s, offline);
      const p = s.params();
      const now = ctx.block.time;
      const t = accrue(s.target(offline), now, false);
      bank.escrowDeposit(ctx.access, ESCROW.incentives, ctx.sender, reward);
      s.setTarget(offline, addToPool(t, reward, now, p.incentivePeriodMs));
      ctx.emit('incentiveAdded', { offline, reward });
    },

    commitDomainName(ctx, { commitment }) {
      const s = new IdentityStore(ctx.state);
      const p = s.params();
      const committer = ctx.identity;
      const now = ctx.block.time;
      const old = s.commitment(committer, commitment);
      if (old && now - old.time <= p.maxCommitAgeMs) fail(IDENTITY_ERR.COMMITMENT_EXISTS, 'this commitment is already pending');
      s.setCommitment(committer, commitment, { time: now, height: ctx.block.height });
      s.enqueue(now + p.maxCommitAgeMs + 1, JOB.COMMIT_EXPIRY, concatBytes(committer, commitment));
      ctx.emit('nameCommitted', { committer, commitment });
    },

    submitDomainName(ctx, a) {
      const s = new IdentityStore(ctx.state);
      const p = s.params();
      const sender = ctx.identity;
      const now = ctx.block.time;
      let mode: NameMode;
      if (bytesEqual(sender, a.addr)) mode = NameMode.decentralized;
      else if (s.ca(sender)) mode = NameMode.ca;
      else fail(IDENTITY_ERR.NOT_AUTHORIZED, `only the owner ${toHex(a.addr)} (fully decentralized) or a registered CA (quasi-centralized) may submit a name for it`);
      openIdentity(s, a.addr, 'owner');
      if (a.periods > p.maxPeriods) fail(IDENTITY_ERR.BAD_PERIODS, `periods ${a.periods} exceeds the maximum ${p.maxPeriods}`);
      if (a.backup) checkBackup(s, a.backup);
      const commitment = nameCommitment(ctx.chainId, a.name, a.addr, a.salt);
      const c = s.commitment(sender, commitment);
      if (!c) fail(IDENTITY_ERR.NO_COMMITMENT, `no commitment by ${toHex(sender)} matches (name, owner, salt): commit first, then reveal`);
      const age = now - c.time;
      if (age < p.minCommitAgeMs) fail(IDENTITY_ERR.COMMIT_TOO_NEW, `commitment is ${age} ms old; reveal after ${p.minCommitAgeMs} ms (front-running protection)`);
      if (age > p.maxCommitAgeMs) fail(IDENTITY_ERR.COMMIT_TOO_OLD, `commitment is ${age} ms old; it expired after ${p.maxCommitAgeMs} ms (commit again)`);
      const existing = s.domain(a.name);
      const state = nameState(existing, existing ? s.identity(existing.owner)?.closedAt !== undefined : false, now, p.nameGraceMs);
      if (state !== 'unregistered' && state !== 'free') fail(IDENTITY_ERR.NAME_TAKEN, `name ${a.name} is taken (${state})`);
      payFee(ctx, BigInt(a.periods) * p.nameFeePerPeriod);
      s.setCommitment(sender, commitment, undefined);
      s.dequeue(c.time + p.maxCommitAgeMs + 1, JOB.COMMIT_EXPIRY, concatBytes(sender, commitment));
      const expires = now + a.periods * p.namePeriodMs;
      s.setDomain(a.name, { owner: a.addr, ip: a.ip, backup: a.backup, registrar: sender, mode, registeredAt: ctx.block.height, expires });
      ctx.emit('nameRegistered', { name: a.name, owner: a.addr, ip: a.ip, mode: mode === NameMode.ca ? 'ca' : 'decentralized', registrar: sender, expires });
    },

    renewDomainName(ctx, a) {
      const s = new IdentityStore(ctx.state);
      const p = s.params();
      const now = ctx.block.time;
      const d = s.domain(a.name);
      const ownerClosed = d ? s.identity(d.owner)?.closedAt !== undefined : false;
      const state = nameState(d, ownerClosed, now, p.nameGraceMs);
      if (!d || state === 'unregistered' || state === 'free') fail(IDENTITY_ERR.NAME_NOT_FOUND, `name ${a.name} is not registered (or expired beyond its grace period)`);
      if (ownerClosed) fail(IDENTITY_ERR.CLOSED, `the owner of ${a.name} closed its key; only its backup may take it over`);
      if (a.periods > p.maxPeriods) fail(IDENTITY_ERR.BAD_PERIODS, `periods ${a.periods} exceeds the maximum ${p.maxPeriods}`);
      const expires = d.expires + a.periods * p.namePeriodMs;
      if (expires - now > p.maxPeriods * p.namePeriodMs) fail(IDENTITY_ERR.HORIZON, `a name may be paid at most ${p.maxPeriods} periods ahead`);
      payFee(ctx, BigInt(a.periods) * p.nameFeePerPeriod);
      s.setDomain(a.name, { ...d, expires });
      ctx.emit('nameRenewed', { name: a.name, payer: ctx.sender, expires });
    },

    updateDomainName(ctx, a) {
      const s = new IdentityStore(ctx.state);
      const p = s.params();
      const d = s.domain(a.name);
      const state = nameState(d, false, ctx.block.time, p.nameGraceMs);
      if (!d || state === 'unregistered' || state === 'free') fail(IDENTITY_ERR.NAME_NOT_FOUND, `name ${a.name} is not registered`);
      if (!bytesEqual(d.owner, ctx.identity)) fail(IDENTITY_ERR.NOT_OWNER, `only the owner ${toHex(d.owner)} may update ${a.name}`);
      openIdentity(s, ctx.identity);
      if (state === 'expired') fail(IDENTITY_ERR.NAME_EXPIRED, `name ${a.name} expired; renew it first`);
      if (a.backup) {
        if (bytesEqual(a.backup, d.owner)) fail(IDENTITY_ERR.BAD_BACKUP, 'the backup must differ from the owner');
        checkBackup(s, a.backup);
      }
      s.setDomain(a.name, { ...d, ip: a.ip, backup: a.backup });
      ctx.emit('nameUpdated', { name: a.name, ip: a.ip });
    },

    takeOverDomainName(ctx, a) {
      const s = new IdentityStore(ctx.state);
      const p = s.params();
      const d = s.domain(a.name);
      const ownerClosed = d ? s.identity(d.owner)?.closedAt !== undefined : false;
      const state = nameState(d, ownerClosed, ctx.block.time, p.nameGraceMs);
      if (!d || state === 'unregistered' || state === 'free') fail(IDENTITY_ERR.NAME_NOT_FOUND, `name ${a.name} is not registered`);
      if (!d.backup || !bytesEqual(d.backup, ctx.identity)) fail(IDENTITY_ERR.NOT_BACKUP, `${toHex(ctx.identity)} is not the backup of ${a.name}`);
      if (!ownerClosed) fail(IDENTITY_ERR.OWNER_NOT_CLOSED, `the owner of ${a.name} has not closed its key; the backup may take over only after that`);
      openIdentity(s, ctx.identity, 'backup');
      s.setDomain(a.name, {
        ...d,
        owner: ctx.identity,
        backup: undefined,
        registrar: ctx.identity,
        mode: NameMode.decentralized,
        ip: a.ip ?? d.ip,
        registeredAt: ctx.block.height,
      });
      ctx.emit('nameTakenOver', { name: a.name, from: d.owner, to: ctx.identity });
    },

    vouchKey(ctx, { addr, bet }) {
      const s = new IdentityStore(ctx.state);
      const p = s.params();
      const voucher = ctx.identity;
      openIdentity(s, voucher, 'voucher');
      const target = s.onlineOwner(addr);
      if (!target) fail(IDENTITY_ERR.KEY_NOT_REGISTERED, `${toHex(addr)} is not a registered online key`);
      const trec = openIdentity(s, target, 'target');
      if (!bytesEqual(trec.online, addr)) fail(IDENTITY_ERR.KEY_REVOKED, `${toHex(addr)} was replaced by ${toHex(trec.online)}; vouch for the current key`);
      if (bytesEqual(target, voucher)) fail(IDENTITY_ERR.SELF_VOUCH, 'an identity cannot vouch for itself');
      if (bet < p.minBet) fail(IDENTITY_ERR.BET_TOO_SMALL, `bet ${bet} is below the minimum ${p.minBet}`);
      const now = ctx.block.time;
      let t = accrue(s.target(target), now, false);
      const old = s.vouch(target, voucher);
      if (old) t = payReward(ctx, t, old, voucher);
      bank.escrowDeposit(ctx.access, ESCROW.stakes, ctx.sender, bet);
      s.setVouch(target, voucher, { stake: (old?.stake ?? 0n) + bet, accSnapshot: t.acc, since: old?.since ?? ctx.block.height });
      s.setTarget(target, { ...t, totalStake: t.totalStake + bet, vouchers: t.vouchers + (old ? 0 : 1) });
      ctx.emit('vouched', { voucher, target, online: addr, bet });
    },

    unvouchKey(ctx, { addr }) {
      const s = new IdentityStore(ctx.state);
      const p = s.params();
      const voucher = ctx.identity;
      const target = targetOf(s, addr);
      const v = s.vouch(target, voucher);
      if (!v) fail(IDENTITY_ERR.NO_VOUCH, `${toHex(voucher)} has no active vouch for ${toHex(target)}`);
      const closed = s.identity(target)?.closedAt !== undefined;
      const now = ctx.block.time;
      let t = accrue(s.target(target), now, closed);
      t = payReward(ctx, t, v, voucher);
      t = { ...t, totalStake: t.totalStake - v.stake, vouchers: t.vouchers - 1 };
      s.setVouch(target, voucher, undefined);
      startUnbonding(s, target, voucher, v.stake, v.stake, now + p.unbondingMs);
      s.setTarget(target, settleIfEmpty(bank, ctx.access, t, target, closed));
      ctx.emit('unvouched', { voucher, target, stake: v.stake, due: now + p.unbondingMs });
    },

    claimIncentive(ctx, { addr }) {
      const s = new IdentityStore(ctx.state);
      const voucher = ctx.identity;
      const target = targetOf(s, addr);
      const v = s.vouch(target, voucher);
      if (!v) fail(IDENTITY_ERR.NO_VOUCH, `${toHex(voucher)} has no active vouch for ${toHex(target)}`);
      const closed = s.identity(target)?.closedAt !== undefined;
      let t = accrue(s.target(target), ctx.block.time, closed);
      if (pendingReward(v, t) === 0n) fail(IDENTITY_ERR.NOTHING_TO_CLAIM, 'no incentive has accrued to this vouch yet');
      t = payReward(ctx, t, v, voucher);
      s.setVouch(target, voucher, { ...v, accSnapshot: t.acc });
      s.setTarget(target, t);
    },
  };
}

/** When no vouch is left: dust back into the pool, or, for a closed target, everything held to its owner. */
export function settleIfEmpty(bank: IdentityDeps['bank'], access: StoreAccess, t: TargetStake, target: Uint8Array, closed: boolean): TargetStake {
  if (t.vouchers > 0) return t;
  if (!closed) return foldDust(t);
  if (t.held > 0n) bank.escrowRelease(access, ESCROW.incentives, target, t.held);
  return { ...t, pool: 0n, held: 0n };
}

/** A backup must be an offline address: not an online key, not a closed identity. */
function checkBackup(s: IdentityStore, backup: Uint8Array): void {
  if (s.onlineOwner(backup)) fail(IDENTITY_ERR.BAD_BACKUP, `backup ${toHex(backup)} is an online key; name an offline address`);
  if (s.identity(backup)?.closedAt !== undefined) fail(IDENTITY_ERR.BAD_BACKUP, `backup ${toHex(backup)} has closed its identity`);
}

/** Adds stake to the (target, voucher) unbonding, due at `due` (a later unvouch postpones the whole amount). */
export function startUnbonding(s: IdentityStore, target: Uint8Array, voucher: Uint8Array, amount: bigint, liable: bigint, due: number): void {
  const id = concatBytes(target, voucher);
  const u = s.unbonding(target, voucher);
  if (u) s.dequeue(u.due, JOB.UNBOND_RELEASE, id);
  s.setUnbonding(target, voucher, { amount: (u?.amount ?? 0n) + amount, liable: (u?.liable ?? 0n) + liable, due });
  s.enqueue(due, JOB.UNBOND_RELEASE, id);
}
