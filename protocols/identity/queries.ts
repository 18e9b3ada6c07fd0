// Identity queries. All read point keys only (provable): a client can check every answer against a
// certified header. Outputs are JSON: addresses and keys 0x-hex, amounts decimal strings, times ms.
import { struct, bytes20, bytes32, str, optional, type Codec } from '../../lib/encoding.js';
import { toHex, bytesEqual } from '../../lib/hex.js';
import { CURVE_NAMES } from '../../crypto/keys.js';
import { defineQuery, type AnyQuery, type ModuleReader } from '../module.js';
import { IdentityReader } from './store.js';
import { assertName, MAX_NAME_BYTES } from './syntax.js';
import { nameState, keyState, historyEntryOf } from './status.js';
import { accrue, pendingReward, trustLevel } from './incentives.js';
import { NameMode, type KeyHistoryEntry, type IdentityParams } from './types.js';

const addrArgs: Codec<{ addr: Uint8Array }> = struct<{ addr: Uint8Array }>({ addr: bytes20 }, ['addr']);
const nameArgs: Codec<{ name: string }> = struct<{ name: string }>({ name: str(MAX_NAME_BYTES) }, ['name']);

const hex = (b: Uint8Array | undefined) => (b ? toHex(b) : null);

function entryJson(e: KeyHistoryEntry) {
  return { online: toHex(e.online), keyType: CURVE_NAMES[e.keyType], pub: toHex(e.pub), from: e.from, to: e.to ?? null };
}

function paramsJson(p: IdentityParams) {
  return {
    minCommitAgeMs: p.minCommitAgeMs,
    maxCommitAgeMs: p.maxCommitAgeMs,
    namePeriodMs: p.namePeriodMs,
    nameFeePerPeriod: p.nameFeePerPeriod.toString(),
    maxPeriods: p.maxPeriods,
    nameGraceMs: p.nameGraceMs,
    minBet: p.minBet.toString(),
    unbondingMs: p.unbondingMs,
    incentivePeriodMs: p.incentivePeriodMs,
    closePenaltyPoints: p.closePenaltyPoints,
    closePenaltyPerAmount: p.closePenaltyPerAmount.toString(),
    trustUnit: p.trustUnit.toString(),
  };
}

/** The identity an address stands for (online keys map to their owner). */
function offlineOf(r: IdentityReader, addr: Uint8Array): Uint8Array {
  return r.onlineOwner(addr) ?? addr;
}

export function domainJson(r: IdentityReader, name: string, now: number) {
  const d = r.domain(name);
  const ownerClosed = d ? r.identity(d.owner)?.closedAt !== undefined : false;
  const state = nameState(d, ownerClosed, now, r.params().nameGraceMs);
  const resolved = state === 'active';
  return {
    name,
    state,
    resolved,
    ip: resolved ? d!.ip : null,
    owner: hex(d?.owner),
    backup: hex(d?.backup),
    registrar: hex(d?.registrar),
    mode: d ? (d.mode === NameMode.ca ? 'ca' : 'decentralized') : null,
    registeredAt: d?.registeredAt ?? null,
    expires: d?.expires ?? null,
  };
}

function trustJson(r: IdentityReader, offline: Uint8Array) {
  const t = r.target(offline);
  return { stake: t.totalStake.toString(), vouchers: t.vouchers, level: trustLevel(t.totalStake, r.params().trustUnit), incentivePool: t.pool.toString() };
}

export interface CertificateFactsArgs {
  name: string;
  /** The online address the certificate binds (its subject key's, or the one its binding extension names). */
  online: Uint8Array;
  /** Issuing CA's offline address (quasi-centralized); absent for a self-signed certificate. */
  ca: Uint8Array | undefined;
}

/**
 * The on-chain facts a certificate check needs, and every reason they fail. The X.509 half
 * (parsing, signatures, validity dates, extensions) is done off-chain by the certificate library,
 * which adds its own reasons to these.
 */
export function certificateFacts(state: ModuleReader, a: CertificateFactsArgs, now: number) {
  const r = new IdentityReader(state);
  assertName(a.name);
  const reasons: string[] = [];
  const name = domainJson(r, a.name, now);
  if (name.state === 'unregistered') reasons.push('NAME_NOT_REGISTERED');
  else if (name.state === 'expired' || name.state === 'free') reasons.push('NAME_EXPIRED');
  else if (name.state === 'owner-closed') reasons.push('NAME_OWNER_CLOSED');

  const keyOwner = r.onlineOwner(a.online);
  const keyRec = keyOwner ? r.identity(keyOwner) : undefined;
  const ks = keyState(a.online, keyOwner, keyRec);
  const entry = keyOwner ? historyEntryOf(r.history(keyOwner), a.online) : undefined;
  if (ks === 'unregistered') reasons.push('KEY_NOT_REGISTERED');
  else if (ks === 'revoked') reasons.push('KEY_REVOKED');
  else if (ks === 'closed') reasons.push('KEY_CLOSED');
  const d = r.domain(a.name);
  const matches = !!d && !!keyOwner && bytesEqual(d.owner, keyOwner);
  if (d && keyOwner && !matches) reasons.push('KEY_NOT_DOMAIN_OWNER');

  let ca = null;
  if (a.ca) {
    const caRec = r.ca(a.ca);
    const caId = r.identity(a.ca);
    const caKey = caId && caId.closedAt === undefined ? caId : undefined;
    const caKeyActive = caKey !== undefined;
    if (!caRec) reasons.push('CA_NOT_REGISTERED');
    if (!caKeyActive) reasons.push('CA_KEY_INACTIVE');
    ca = {
      address: toHex(a.ca),
      registered: !!caRec,
      since: caRec?.since ?? null,
      keyActive: caKeyActive,
      online: caKey ? toHex(caKey.online) : null,
      keyType: caKey ? CURVE_NAMES[caKey.keyType] : null,
      pub: caKey ? toHex(caKey.pub) : null,
    };
  }
  return {
    valid: reasons.length === 0,
    reasons,
    name,
    key: {
      online: toHex(a.online),
      state: ks,
      owner: hex(keyOwner),
      keyType: entry ? CURVE_NAMES[entry.keyType] : null,
      pub: entry ? toHex(entry.pub) : null,
      from: entry?.from ?? null,
      revokedAt: entry?.to ?? null,
      matchesDomain: matches,
    },
    ca,
    trust: keyOwner ? trustJson(r, keyOwner) : null,
    time: now,
  };
}

export const queries: Record<string, AnyQuery> = {
  /** {} → the module parameters. */
  params: defineQuery({
    args: struct<Record<string, never>>({}, []),
    provable: true,
    run: (ctx) => paramsJson(new IdentityReader(ctx.state).params()),
  }),

  /** {addr} (offline, or any of its online keys) → the identity and its current key. */
  getKey: defineQuery({
    args: addrArgs,
    provable: true,
    run(ctx, { addr }) {
      const r = new IdentityReader(ctx.state);
      const offline = offlineOf(r, addr);
      const rec = r.identity(offline);
      if (!rec) return { registered: false, offline: toHex(offline) };
      return {
        registered: true,
        offline: toHex(offline),
        online: toHex(rec.online),
        keyType: CURVE_NAMES[rec.keyType],
        pub: toHex(rec.pub),
        active: rec.closedAt === undefined,
        closed: rec.closedAt !== undefined,
        closedAt: rec.closedAt ?? null,
        registeredAt: rec.registeredAt,
        historyLength: rec.historyLength,
      };
    },
  }),

  /** {addr} → every online key of the identity with the heights it was valid for: from ≤ h < to (to null = current). */
  keyHistory: defineQuery({
    args: addrArgs,
    provable: true,
    run(ctx, { addr }) {
      const r = new IdentityReader(ctx.state);
      const offline = offlineOf(r, addr);
      return { offline: toHex(offline), entries: r.history(offline).map(entryJson) };
    },
  }),

  /** {name} → {state, resolved, ip (only when resolved), owner, …}. */
  resolveAddress: defineQuery({
    args: nameArgs,
    provable: true,
    run(ctx, { name }) {
      assertName(name);
      return domainJson(new IdentityReader(ctx.state), name, ctx.time);
    },
  }),

  /** {addr} (online or offline) → trust of the identity: total stake, vouchers, level, and the key's state. */
  getTrust: defineQuery({
    args: addrArgs,
    provable: true,
    run(ctx, { addr }) {
      const r = new IdentityReader(ctx.state);
      const owner = r.onlineOwner(addr);
      const offline = owner ?? addr;
      const rec = r.identity(offline);
      const state = owner ? keyState(addr, owner, rec) : rec ? (rec.closedAt === undefined ? 'identity' : 'closed') : 'unregistered';
      return { addr: toHex(addr), offline: toHex(offline), keyState: state, ...trustJson(r, offline) };
    },
  }),

  /** {name, online, ca?} → the on-chain half of a certificate check: {valid, reasons[], name, key, ca, trust}. */
  certificateFacts: defineQuery({
    args: struct<CertificateFactsArgs>({ name: str(MAX_NAME_BYTES), online: bytes20, ca: optional(bytes20) }, ['name', 'online', 'ca']),
    provable: true,
    run: (ctx, a) => certificateFacts(ctx.state, a, ctx.time),
  }),

  /** {addr} → whether it is a registered CA (quasi-centralized mode). */
  isCa: defineQuery({
    args: addrArgs,
    provable: true,
    run(ctx, { addr }) {
      const c = new IdentityReader(ctx.state).ca(addr);
      return { ca: toHex(addr), registered: !!c, since: c?.since ?? null };
    },
  }),

  /** {committer, commitment} → the commitment's age window: reveal when revealFrom ≤ block time ≤ revealUntil. */
  commitment: defineQuery({
    args: struct<{ committer: Uint8Array; commitment: Uint8Array }>({ committer: bytes20, commitment: bytes32 }, ['committer', 'commitment']),
    provable: true,
    run(ctx, { committer, commitment }) {
      const r = new IdentityReader(ctx.state);
      const c = r.commitment(committer, commitment);
      const p = r.params();
      if (!c) return { found: false };
      return { found: true, time: c.time, height: c.height, revealFrom: c.time + p.minCommitAgeMs, revealUntil: c.time + p.maxCommitAgeMs };
    },
  }),

  /** {voucher, target} (target online or offline) → the vouch's stake, its reward claimable now, and any unbonding. */
  getVouch: defineQuery({
    args: struct<{ voucher: Uint8Array; target: Uint8Array }>({ voucher: bytes20, target: bytes20 }, ['voucher', 'target']),
    provable: true,
    run(ctx, { voucher, target }) {
      const r = new IdentityReader(ctx.state);
      const t0 = offlineOf(r, target);
      const v = r.vouch(t0, voucher);
      const u = r.unbonding(t0, voucher);
      const closed = r.identity(t0)?.closedAt !== undefined;
      const t = accrue(r.target(t0), ctx.time, closed);
      return {
        voucher: toHex(voucher),
        target: toHex(t0),
        stake: (v?.stake ?? 0n).toString(),
        claimable: v ? pendingReward(v, t).toString() : '0',
        unbonding: u ? { amount: u.amount.toString(), due: u.due } : null,
      };
    },
  }),
};
