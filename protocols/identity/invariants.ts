// Identity invariants, checked after every block in tests (they read whole key ranges).
import { decode } from '../../lib/encoding.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import type { ModuleReader, ReaderAccess } from '../module.js';
import { IdentityReader } from './store.js';
import { PREFIXES, JOB } from './keys.js';
import { parseDeadlineKey } from '../module.js';
import { identityRecordCodec, targetStakeCodec, vouchCodec, unbondingCodec, domainCodec } from './codec.js';
import { ESCROW, type IdentityDeps } from './deps.js';
import { nameSyntaxError } from './syntax.js';
import type { TargetStake } from './types.js';

export function makeInvariants(deps: IdentityDeps) {
  return async function invariants(reader: ModuleReader, access: ReaderAccess): Promise<string[]> {
    const out: string[] = [];
    const r = new IdentityReader(reader);
    const bad = (m: string) => out.push(`identity: ${m}`);

    // Identities and key histories: contiguous periods, the last one is the current key, every
    // online key indexed exactly once and pointing at its owner.
    let historyEntries = 0;
    for await (const [k, v] of reader.entries(PREFIXES.identity)) {
      const offline = k.slice(1);
      const rec = decode(identityRecordCodec, v, 'identity');
      const hist = r.history(offline);
      historyEntries += hist.length;
      if (hist.length === 0) bad(`${toHex(offline)} has no key history`);
      for (let i = 0; i < hist.length; i++) {
        const e = hist[i]!;
        const owner = r.onlineOwner(e.online);
        if (!owner || !bytesEqual(owner, offline)) bad(`online key ${toHex(e.online)} is not indexed to ${toHex(offline)}`);
        if (i + 1 < hist.length && e.to !== hist[i + 1]!.from) bad(`${toHex(offline)} history ${i}: to ${e.to} ≠ next from ${hist[i + 1]!.from}`);
        if (e.to !== undefined && e.to < e.from) bad(`${toHex(offline)} history ${i}: to < from`);
      }
      const last = hist[hist.length - 1];
      if (last && (!bytesEqual(last.online, rec.online) || !bytesEqual(last.pub, rec.pub))) bad(`${toHex(offline)}: current key is not the last history entry`);
      if (last && last.to !== rec.closedAt) bad(`${toHex(offline)}: last history entry ends at ${last.to}, closedAt is ${rec.closedAt}`);
    }
    let onlineKeys = 0;
    for await (const _ of reader.entries(PREFIXES.online)) onlineKeys++;
    if (onlineKeys !== historyEntries) bad(`${onlineKeys} online keys indexed, ${historyEntries} history entries`);

    // Vouches, unbondings and the two escrows.
    const sums = new Map<string, { stake: bigint; count: number }>();
    let stakes = 0n;
    for await (const [k, v] of reader.entries(PREFIXES.vouch)) {
      const target = toHex(k.slice(1, 21));
      const vouch = decode(vouchCodec, v, 'vouch');
      if (vouch.stake === 0n) bad(`vouch ${target}/${toHex(k.slice(21))} has zero stake`);
      const s = sums.get(target) ?? { stake: 0n, count: 0 };
      sums.set(target, { stake: s.stake + vouch.stake, count: s.count + 1 });
      stakes += vouch.stake;
    }
    const queued = new Set<string>();
    for await (const [k] of reader.entries(PREFIXES.queue)) {
      const j = parseDeadlineKey(PREFIXES.queue, k);
      if (j.kind === JOB.UNBOND_RELEASE) queued.add(`${j.due}/${toHex(j.id)}`);
    }
    for await (const [k, v] of reader.entries(PREFIXES.unbond)) {
      const u = decode(unbondingCodec, v, 'unbonding');
      stakes += u.amount;
      if (u.liable > u.amount) bad(`unbonding ${toHex(k.slice(1))}: liable > amount`);
      if (!queued.has(`${u.due}/${toHex(k.slice(1))}`)) bad(`unbonding ${toHex(k.slice(1))} has no release job at ${u.due}`);
    }
    let held = 0n;
    const targets = new Map<string, TargetStake>();
    for await (const [k, v] of reader.entries(PREFIXES.target)) {
      const t = decode(targetStakeCodec, v, 'target');
      targets.set(toHex(k.slice(1)), t);
      held += t.held;
      if (t.held < t.pool) bad(`target ${toHex(k.slice(1))}: held ${t.held} < pool ${t.pool}`);
    }
    for (const [target, t] of targets) {
      const s = sums.get(target) ?? { stake: 0n, count: 0 };
      if (s.stake !== t.totalStake || s.count !== t.vouchers) bad(`target ${target}: totalStake ${t.totalStake}/${t.vouchers} ≠ vouches ${s.stake}/${s.count}`);
    }
    for (const target of sums.keys()) if (!targets.has(target)) bad(`vouches for ${target} without a target record`);
    const stakeEscrow = deps.bank.escrowBalance(access, ESCROW.stakes);
    if (stakeEscrow !== stakes) bad(`stake escrow holds ${stakeEscrow}, vouches + unbondings sum to ${stakes}`);
    const incentiveEscrow = deps.bank.escrowBalance(access, ESCROW.incentives);
    if (incentiveEscrow !== held) bad(`incentive escrow holds ${incentiveEscrow}, targets hold ${held}`);

    // Names: valid syntax, owned by registered identities.
    for await (const [k, v] of reader.entries(PREFIXES.name)) {
      const name = Buffer.from(k.slice(1)).toString('latin1');
      const d = decode(domainCodec, v, 'domain');
      const why = nameSyntaxError(name);
      if (why) bad(`name ${JSON.stringify(name)}: ${why}`);
      if (!r.identity(d.owner)) bad(`name ${name}: owner ${toHex(d.owner)} is not a registered identity`);
    }
    return out;
  };
}
