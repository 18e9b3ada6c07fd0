// Typed access to the identity key space: a read-only IdentityReader (queries, keepers,
// invariants) extended by the writing IdentityStore (handlers, end-of-block).
import { encode, decode, type Codec } from '../../lib/encoding.js';
import { InternalError } from '../../lib/errors.js';
import type { ModuleReader, ModuleStore } from '../module.js';
import {
  identityRecordCodec,
  historyEntryCodec,
  commitmentCodec,
  domainCodec,
  targetStakeCodec,
  vouchCodec,
  unbondingCodec,
  caRecordCodec,
  paramsCodec,
} from './codec.js';
import {
  PARAMS_KEY,
  identityKey,
  historyKey,
  onlineKey,
  caKey,
  commitKey,
  nameKey,
  targetKey,
  vouchKey,
  unbondKey,
  queueKey,
  type JobKind,
} from './keys.js';
import type { IdentityRecord, KeyHistoryEntry, Commitment, DomainRecord, TargetStake, Vouch, Unbonding, CaRecord, IdentityParams } from './types.js';

export const EMPTY_TARGET: TargetStake = { totalStake: 0n, vouchers: 0, pool: 0n, streamEnd: 0, lastAccrual: 0, acc: 0n, held: 0n };

export class IdentityReader {
  constructor(protected readonly r: ModuleReader) {}

  protected read<T>(codec: Codec<T>, key: Uint8Array, what: string): T | undefined {
    const raw = this.r.get(key);
    return raw === undefined ? undefined : decode(codec, raw, `identity ${what}`);
  }

  params(): IdentityParams {
    const p = this.read(paramsCodec, PARAMS_KEY, 'params');
    if (!p) throw new InternalError('IDENTITY_NO_PARAMS', 'identity params missing (genesis did not run)');
    return p;
  }

  identity(offline: Uint8Array): IdentityRecord | undefined {
    return this.read(identityRecordCodec, identityKey(offline), 'record');
  }

  historyEntry(offline: Uint8Array, index: number): KeyHistoryEntry | undefined {
    return this.read(historyEntryCodec, historyKey(offline, index), 'history entry');
  }

  /** Every history entry of `offline`, oldest first (point reads only: provable). */
  history(offline: Uint8Array): KeyHistoryEntry[] {
    const rec = this.identity(offline);
    const out: KeyHistoryEntry[] = [];
    for (let i = 0; rec && i < rec.historyLength; i++) {
      const e = this.historyEntry(offline, i);
      if (!e) throw new InternalError('IDENTITY_HISTORY_GAP', `history entry ${i} missing`);
      out.push(e);
    }
    return out;
  }

  /** Offline owner of an online address (current or revoked), if it was ever registered. */
  onlineOwner(online: Uint8Array): Uint8Array | undefined {
    return this.r.get(onlineKey(online));
  }

  ca(addr: Uint8Array): CaRecord | undefined {
    return this.read(caRecordCodec, caKey(addr), 'CA');
  }

  commitment(committer: Uint8Array, commitment: Uint8Array): Commitment | undefined {
    return this.read(commitmentCodec, commitKey(committer, commitment), 'commitment');
  }

  domain(name: string): DomainRecord | undefined {
    return this.read(domainCodec, nameKey(name), 'domain');
  }

  target(target: Uint8Array): TargetStake {
    return this.read(targetStakeCodec, targetKey(target), 'target stake') ?? EMPTY_TARGET;
  }

  vouch(target: Uint8Array, voucher: Uint8Array): Vouch | undefined {
    return this.read(vouchCodec, vouchKey(target, voucher), 'vouch');
  }

  unbonding(target: Uint8Array, voucher: Uint8Array): Unbonding | undefined {
    return this.read(unbondingCodec, unbondKey(target, voucher), 'unbonding');
  }
}

export class IdentityStore extends IdentityReader {
  constructor(private readonly s: ModuleStore) {
    super(s);
  }

  private write<T>(codec: Codec<T>, key: Uint8Array, value: T | undefined): void {
    if (value === undefined) this.s.delete(key);
    else this.s.set(key, encode(codec, value));
  }

  setParams(p: IdentityParams): void {
    this.write(paramsCodec, PARAMS_KEY, p);
  }

  setIdentity(offline: Uint8Array, rec: IdentityRecord): void {
    this.write(identityRecordCodec, identityKey(offline), rec);
  }

  setHistoryEntry(offline: Uint8Array, index: number, e: KeyHistoryEntry): void {
    this.write(historyEntryCodec, historyKey(offline, index), e);
  }

  setOnlineOwner(online: Uint8Array, offline: Uint8Array): void {
    this.s.set(onlineKey(online), offline);
  }

  setCa(addr: Uint8Array, rec: CaRecord | undefined): void {
    this.write(caRecordCodec, caKey(addr), rec);
  }

  setCommitment(committer: Uint8Array, commitment: Uint8Array, c: Commitment | undefined): void {
    this.write(commitmentCodec, commitKey(committer, commitment), c);
  }

  setDomain(name: string, d: DomainRecord | undefined): void {
    this.write(domainCodec, nameKey(name), d);
  }

  setTarget(target: Uint8Array, t: TargetStake): void {
    const empty = t.totalStake === 0n && t.vouchers === 0 && t.pool === 0n && t.held === 0n && t.acc === 0n;
    this.write(targetStakeCodec, targetKey(target), empty ? undefined : t);
  }

  setVouch(target: Uint8Array, voucher: Uint8Array, v: Vouch | undefined): void {
    this.write(vouchCodec, vouchKey(target, voucher), v);
  }

  setUnbonding(target: Uint8Array, voucher: Uint8Array, u: Unbonding | undefined): void {
    this.write(unbondingCodec, unbondKey(target, voucher), u);
  }

  enqueue(due: number, kind: JobKind, id: Uint8Array): void {
    this.s.set(queueKey(due, kind, id), new Uint8Array([kind]));
  }

  dequeue(due: number, kind: JobKind, id: Uint8Array): void {
    this.s.delete(queueKey(due, kind, id));
  }
}
