// Typed access to the reputation key space: ReputationReader (queries, invariants, keeper reads)
// extended by the writing ReputationStore.
import { encode, decode, type Codec } from '../../lib/encoding.js';
import { InternalError } from '../../lib/errors.js';
import type { ModuleReader, ModuleStore } from '../module.js';
import { scoreCodec, depositCodec, paramsCodec } from './codec.js';
import { PARAMS_KEY, NOTARY_KEY, scoreKey, markKey, proofKey, depositKey, queueKey, type JobKind } from './keys.js';
import type { Score, Deposit, ReputationParams } from './types.js';

export const EMPTY_SCORE: Score = { pos: 0n, neg: 0n, updatedAt: 0, positives: 0, negatives: 0 };

export class ReputationReader {
  constructor(protected readonly r: ModuleReader) {}

  protected read<T>(codec: Codec<T>, key: Uint8Array, what: string): T | undefined {
    const raw = this.r.get(key);
    return raw === undefined ? undefined : decode(codec, raw, `reputation ${what}`);
  }

  params(): ReputationParams {
    const p = this.read(paramsCodec, PARAMS_KEY, 'params');
    if (!p) throw new InternalError('REPUTATION_NO_PARAMS', 'reputation params missing (genesis did not run)');
    return p;
  }

  notary(): Uint8Array | undefined {
    return this.r.get(NOTARY_KEY);
  }

  score(target: Uint8Array): Score {
    return this.read(scoreCodec, scoreKey(target), 'score') ?? EMPTY_SCORE;
  }

  hasMark(id: Uint8Array): boolean {
    return this.r.has(markKey(id));
  }

  proofUsed(digest: Uint8Array): boolean {
    return this.r.has(proofKey(digest));
  }

  deposit(voteId: Uint8Array): Deposit | undefined {
    return this.read(depositCodec, depositKey(voteId), 'deposit');
  }
}

export class ReputationStore extends ReputationReader {
  constructor(private readonly s: ModuleStore) {
    super(s);
  }

  setParams(p: ReputationParams): void {
    this.s.set(PARAMS_KEY, encode(paramsCodec, p));
  }

  setNotary(addr: Uint8Array): void {
    this.s.set(NOTARY_KEY, addr);
  }

  setScore(target: Uint8Array, sc: Score): void {
    this.s.set(scoreKey(target), encode(scoreCodec, sc));
  }

  setMark(id: Uint8Array, present: boolean): void {
    if (present) this.s.set(markKey(id), new Uint8Array([1]));
    else this.s.delete(markKey(id));
  }

  setProofUsed(digest: Uint8Array, present: boolean): void {
    if (present) this.s.set(proofKey(digest), new Uint8Array([1]));
    else this.s.delete(proofKey(digest));
  }

  setDeposit(voteId: Uint8Array, d: Deposit | undefined): void {
    if (d) this.s.set(depositKey(voteId), encode(depositCodec, d));
    else this.s.delete(depositKey(voteId));
  }

  enqueue(due: number, kind: JobKind, id: Uint8Array): void {
    this.s.set(queueKey(due, kind, id), new Uint8Array([kind]));
  }

  dequeue(due: number, kind: JobKind, id: Uint8Array): void {
    this.s.delete(queueKey(due, kind, id));
  }
}
