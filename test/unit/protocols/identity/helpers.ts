// Shared harness for the identity and reputation tests: a chain (one validator unless given more) with the modules,
// typed transaction builders with automatic nonces, invariants (every module's, bank conservation
// included) after every block, and snapshots to prove that a refused transaction changed nothing.
import type { Test } from 'tap';
import { testChain, testKey, addr, CHAIN_ID, type TestChain } from '../../../utils/chain.js';
import { KeyType, toChecksumAddress, type KeyPair } from '../../../../crypto/keys.js';
import { encode, decode } from '../../../../lib/encoding.js';
import { toHex } from '../../../../lib/hex.js';
import { buildTx } from '../../../../state/tx.js';
import { scopedReader, type ReaderAccess } from '../../../../protocols/module.js';
import { runQuery } from '../../../../protocols/query.js';
import { verifyQueryAnswer } from '../../../../protocols/verify.js';
import { headerCodec, commitCertificateCodec } from '../../../../state/block.js';
import { accountCodec } from '../../../../protocols/bank/codec.js';
import { argsCodecs as identityArgs } from '../../../../protocols/identity/codec.js';
import { argsCodecs as reputationArgs } from '../../../../protocols/reputation/codec.js';
import { signPop, nameCommitment, type IdentityMsgs } from '../../../../protocols/identity/index.js';
import type { ReputationMsgs } from '../../../../protocols/reputation/index.js';
import { argsCodecs as validatorsArgs } from '../../../../protocols/validators/codec.js';
import type { ValidatorsMsgs } from '../../../../protocols/validators/index.js';
import type { TxResult } from '../../../../state/block.js';

export { CHAIN_ID, addr, testKey, KeyType, toHex };
export const IDENTITY = 2;
export const REPUTATION = 3;
export const VALIDATORS = 7;
export const BANK = 1;

/** Short periods so that tests move through them in a few 1-second blocks. */
export const FAST_IDENTITY_PARAMS = {
  minCommitAgeMs: 2_000,
  maxCommitAgeMs: 10_000,
  namePeriodMs: 100_000,
  nameFeePerPeriod: '100',
  maxPeriods: 5,
  nameGraceMs: 20_000,
  minBet: '10',
  unbondingMs: 5_000,
  incentivePeriodMs: 10_000,
  closePenaltyPoints: 10,
  closePenaltyPerAmount: '1000',
  trustUnit: '100',
};

export const FAST_REPUTATION_PARAMS = {
  halfLifeMs: 100_000,
  periodMs: 50_000,
  maxScore: 10,
  voteFee: '5',
  negativeDeposit: '500',
  depositWindowMs: 5_000,
  proofMaxAgeMs: 20_000,
  proofMaxFutureMs: 2_000,
};

export interface Entity {
  label: string;
  offline: KeyPair;
  online: KeyPair;
  /** offline address */
  id: Uint8Array;
  /** online address */
  on: Uint8Array;
}

export function entity(label: string, onlineType: KeyType = KeyType.secp256k1, offlineType: KeyType = KeyType.secp256k1): Entity {
  const offline = testKey(`${label}/offline`, offlineType);
  const online = testKey(`${label}/online`, onlineType);
  return { label, offline, online, id: addr(offline), on: addr(online) };
}

export function keyArgs(chainOffline: Uint8Array, online: KeyPair, chainId = CHAIN_ID) {
  return { addr: addr(online), keyType: online.type, pub: online.publicKey, pop: signPop(online, chainId, chainOffline) };
}

type Snapshot = { modules: Record<number, string[]>; balances: Record<string, string> };

export interface HarnessOptions {
  funded?: KeyPair[];
  amount?: bigint;
  cas?: Uint8Array[];
  notary?: Uint8Array;
  identityParams?: Record<string, unknown>;
  reputationParams?: Record<string, unknown>;
  /** Genesis validators' consensus keys (default: one), for validators-module transactions. */
  validators?: KeyPair[];
}

export class Harness {
  private readonly nonces = new Map<string, number>();
  /** Results and tx ids of the last block. */
  last: TxResult[] = [];
  lastIds: Uint8Array[] = [];

  private constructor(
    readonly t: Test,
    readonly c: TestChain,
  ) {}

  static async create(t: Test, o: HarnessOptions = {}): Promise<Harness> {
    const amount = o.amount ?? 1_000_000n;
    const c = await testChain({
      ...(o.validators ? { validators: o.validators } : {}),
      funded: (o.funded ?? []).map((k) => [k, amount] as [KeyPair, bigint]),
      extra: {
        identity: { cas: (o.cas ?? []).map((a) => toChecksumAddress(a)), params: { ...FAST_IDENTITY_PARAMS, ...(o.identityParams ?? {}) } },
        reputation: {
          ...(o.notary ? { notary: toChecksumAddress(o.notary) } : {}),
          params: { ...FAST_REPUTATION_PARAMS, ...(o.reputationParams ?? {}) },
        },
      },
    });
    return new Harness(t, c);
  }

  get time(): number {
    return this.c.app.head.time;
  }
  get height(): number {
    return this.c.app.head.height;
  }
  /** Time of the next block (blocks advance the clock by 1 s). */
  get nextTime(): number {
    return this.c.clock.now + 1000;
  }

  /** Moves the clock forward; the next block's time is now + ms + 1 s. */
  advance(ms: number): void {
    this.c.clock.now += ms;
  }

  private nonce(k: KeyPair): number {
    const a = toHex(addr(k));
    const n = this.nonces.get(a) ?? this.c.app.account(addr(k)).nonce;
    this.nonces.set(a, n + 1);
    return n;
  }

  private methodId(module: string, method: string): { moduleId: number; methodId: number } {
    const m = this.c.app.modules.byName.get(module)!;
    return { moduleId: m.id, methodId: (m.methods as Record<string, { id: number }>)[method]!.id };
  }

  id<K extends keyof IdentityMsgs>(key: KeyPair, method: K, args: IdentityMsgs[K]): Uint8Array {
    const ids = this.methodId('identity', method);
    return buildTx(key, { chainId: CHAIN_ID, nonce: this.nonce(key), ...ids, args: encode(identityArgs[method], args), fee: 0n });
  }

  rep<K extends keyof ReputationMsgs>(key: KeyPair, method: K, args: ReputationMsgs[K]): Uint8Array {
    const ids = this.methodId('reputation', method);
    return buildTx(key, { chainId: CHAIN_ID, nonce: this.nonce(key), ...ids, args: encode(reputationArgs[method], args), fee: 0n });
  }

  /** A validators-module transaction (CA-set governance), signed with a consensus key. */
  gov<K extends keyof ValidatorsMsgs>(key: KeyPair, method: K, args: ValidatorsMsgs[K]): Uint8Array {
    return buildTx(key, { chainId: CHAIN_ID, nonce: this.nonce(key), ...this.methodId('validators', method), args: encode(validatorsArgs[method], args), fee: 0n });
  }

  /** Raw args bytes (for malformed-args tests). */
  raw(key: KeyPair, module: string, method: string, args: Uint8Array): Uint8Array {
    return buildTx(key, { chainId: CHAIN_ID, nonce: this.nonce(key), ...this.methodId(module, method), args, fee: 0n });
  }

  private access(): ReaderAccess {
    return { readerOf: (id) => scopedReader(this.c.store, id) };
  }

  async invariants(): Promise<string[]> {
    const out: string[] = [];
    for (const m of this.c.app.modules.list) if (m.invariants) out.push(...(await m.invariants(scopedReader(this.c.store, m.id), this.access())));
    return out;
  }

  /** Commits a block; checks every module's invariants (bank conservation included) afterwards. */
  async block(txs: Uint8Array[]): Promise<TxResult[]> {
    const b = await this.c.block(txs);
    this.last = b.results;
    this.lastIds = b.txIds;
    const v = await this.invariants();
    if (v.length) this.t.fail(`invariants after block ${b.header.height}`, { violations: v });
    return b.results;
  }

  /** Commits one block and expects every tx in it to succeed. */
  async ok(...txs: Uint8Array[]): Promise<TxResult[]> {
    const r = await this.block(txs);
    r.forEach((res, i) => {
      if (res.code !== '') this.t.fail(`tx ${i} failed: ${res.code}: ${res.message}`);
    });
    return r;
  }

  async snapshot(): Promise<Snapshot> {
    const modules: Record<number, string[]> = {};
    for (const id of [IDENTITY, REPUTATION, VALIDATORS]) {
      const rows: string[] = [];
      for await (const [k, v] of scopedReader(this.c.store, id).entries(new Uint8Array(0))) rows.push(`${toHex(k)}=${toHex(v)}`);
      modules[id] = rows;
    }
    const balances: Record<string, string> = {};
    for await (const [k, v] of scopedReader(this.c.store, BANK).entries(new Uint8Array([0x61]))) {
      const b = decode(accountCodec, v).balance;
      if (b !== 0n) balances[toHex(k.slice(1))] = b.toString();
    }
    return { modules, balances };
  }

  /**
   * Runs `tx` alone in a block and expects it to fail with `code` (and a message matching `msg`),
   * with identity, reputation and every balance unchanged.
   */
  async refused(tx: Uint8Array, code: string, msg?: RegExp, what = code): Promise<void> {
    const before = await this.snapshot();
    const [r] = await this.block([tx]);
    this.t.equal(r!.code, code, `${what}: code`);
    if (msg) this.t.match(r!.message, msg, `${what}: message`);
    this.t.same(await this.snapshot(), before, `${what}: state unchanged`);
  }

  async query(path: string, args: unknown): Promise<Record<string, unknown>> {
    return (await runQuery(this.c.app, path, args, false)).value as Record<string, unknown>;
  }

  /** A proven query, verified the way a light client does (header + certificate + records). */
  async provenQuery(path: string, args: unknown): Promise<Record<string, unknown>> {
    const answer = await runQuery(this.c.app, path, args, true);
    const block = this.c.app.blocks.block(answer.height)!;
    const cert = this.c.app.blocks.certificate(answer.height)!;
    await verifyQueryAnswer({
      modules: this.c.app.modules,
      validators: this.c.validatorsAt(answer.height),
      chainId: CHAIN_ID,
      headerHex: toHex(encode(headerCodec, block.header)),
      certificateHex: toHex(encode(commitCertificateCodec, cert)),
      path,
      args,
      answer,
    });
    return answer.value as Record<string, unknown>;
  }

  balance(a: Uint8Array): bigint {
    return this.c.app.account(a).balance;
  }

  /** Registers the entities' keys (one block). */
  async register(...es: Entity[]): Promise<void> {
    await this.ok(...es.map((e) => this.id(e.offline, 'submitPublicKey', keyArgs(e.id, e.online))));
  }

  /** Commit, wait the minimum age, reveal: registers `name` for `owner` (submitted by `by`, default the owner). */
  async registerName(name: string, owner: Entity, opts: { by?: KeyPair; ip?: string; backup?: Uint8Array; periods?: number; salt?: Uint8Array } = {}): Promise<void> {
    const by = opts.by ?? owner.offline;
    const salt = opts.salt ?? new Uint8Array(32).fill(7);
    await this.ok(this.id(by, 'commitDomainName', { commitment: nameCommitment(CHAIN_ID, name, owner.id, salt) }));
    this.advance(FAST_IDENTITY_PARAMS.minCommitAgeMs);
    await this.ok(
      this.id(by, 'submitDomainName', { addr: owner.id, name, ip: opts.ip ?? '10.0.0.1:443', backup: opts.backup, salt, periods: opts.periods ?? 1 }),
    );
  }
}
