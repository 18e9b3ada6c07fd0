// Off-chain client of the identity module: builds, signs and sends its transactions from an entity's
// two keys (SPEC §1 "Who is who": every identity method is signed by the offline key; renewals by
// anyone), and runs the multi-step flows a user needs — registering an online key with its proof of
// possession, rotating it, and registering a name by commit, wait, reveal with the salt kept in a
// file so that an interrupted registration resumes instead of starting over.
// Off-chain: the state machine never imports this file. Used by `iotchain identity …` / `iotchain name …`.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidMessageError, ERR } from '../../lib/errors.js';
import { bytesEqual, fromHex, toHex } from '../../lib/hex.js';
import { addressOf, type CurveName, type KeyPair } from '../../crypto/keys.js';
import type { RpcClient, StatusJson } from '../../rpc/client.js';
import { CHAIN_ID_RE } from '../../state/tx.js';
import { submitTx, txSucceeded, TxFailedError, DEFAULT_TX_TIMEOUT_MS, type SendOptions, type TxOutcome } from '../txBuilder.js';
import { defaultModules, indexModules, type ModuleIndex } from '../registry.js';
import { BANK_ERR } from '../bank/index.js';
import { signPop, nameCommitment } from './messages.js';
import { nameSyntaxError, parseEndpoint } from './syntax.js';
import { IDENTITY_ERR } from './errors.js';
import type { NameState, KeyState } from './status.js';

/** A saved commitment this close to the end of its reveal window is replaced by a new one (the reveal must still get into a block). */
const REVEAL_MARGIN_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Query answers (the JSON of protocols/identity/queries.ts)

export type KeyInfo =
  | { registered: false; offline: string }
  | {
      registered: true;
      offline: string;
      online: string;
      keyType: CurveName;
      pub: string;
      active: boolean;
      closed: boolean;
      closedAt: number | null;
      registeredAt: number;
      historyLength: number;
    };

export interface KeyHistoryInfo {
  offline: string;
  /** A key is valid for data anchored at heights from ≤ h < to (to null: current). */
  entries: { online: string; keyType: CurveName; pub: string; from: number; to: number | null }[];
}

export interface NameInfo {
  name: string;
  state: NameState;
  resolved: boolean;
  ip: string | null;
  owner: string | null;
  backup: string | null;
  registrar: string | null;
  mode: 'ca' | 'decentralized' | null;
  registeredAt: number | null;
  expires: number | null;
}

export interface TrustInfo {
  addr: string;
  offline: string;
  keyState: KeyState | 'identity';
  stake: string;
  vouchers: number;
  level: number;
  incentivePool: string;
}

export type CommitmentInfo = { found: false } | { found: true; time: number; height: number; revealFrom: number; revealUntil: number };

/** The module parameters as the `params` query returns them (amounts decimal strings, times ms). */
export interface IdentityParamsInfo {
  minCommitAgeMs: number;
  maxCommitAgeMs: number;
  namePeriodMs: number;
  nameFeePerPeriod: string;
  maxPeriods: number;
  nameGraceMs: number;
  minBet: string;
  unbondingMs: number;
  incentivePeriodMs: number;
  closePenaltyPoints: number;
  closePenaltyPerAmount: string;
  trustUnit: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the fields a caller relies on; the answer comes from the module's own query code. */
function answerOf<T>(path: string, value: unknown, fields: Record<string, 'string' | 'number' | 'boolean' | 'object'>): T {
  if (!isObject(value)) throw new InvalidMessageError(ERR.ENCODING, `unexpected answer to ${path}: not an object`);
  for (const [k, type] of Object.entries(fields)) {
    if (typeof value[k] !== type) throw new InvalidMessageError(ERR.ENCODING, `unexpected answer to ${path}: ${k} is not a ${type}`);
  }
  return value as T;
}

/** Parses an answer of identity/getKey (plain or proven). */
export const keyInfoOf = (v: unknown): KeyInfo => answerOf<KeyInfo>('identity/getKey', v, { registered: 'boolean', offline: 'string' });
export const keyHistoryOf = (v: unknown): KeyHistoryInfo => {
  const h = answerOf<KeyHistoryInfo>('identity/keyHistory', v, { offline: 'string', entries: 'object' });
  if (!Array.isArray(h.entries)) throw new InvalidMessageError(ERR.ENCODING, 'unexpected answer to identity/keyHistory: entries is not a list');
  return h;
};
export const nameInfoOf = (v: unknown): NameInfo => answerOf<NameInfo>('identity/resolveAddress', v, { name: 'string', state: 'string', resolved: 'boolean' });
export const trustInfoOf = (v: unknown): TrustInfo => answerOf<TrustInfo>('identity/getTrust', v, { offline: 'string', keyState: 'string', level: 'number' });

/**
 * Why a name does not resolve, as an error with the module's code: IDENTITY_NAME_NOT_FOUND
 * (unregistered), IDENTITY_NAME_EXPIRED (expired, or free again), IDENTITY_CLOSED (its owner closed
 * its key). Undefined for an active name.
 */
export function nameUnusableError(n: NameInfo): InvalidMessageError | undefined {
  switch (n.state) {
    case 'active':
      return undefined;
    case 'unregistered':
      return new InvalidMessageError(IDENTITY_ERR.NAME_NOT_FOUND, `name ${n.name} is not registered`, { state: n.state });
    case 'expired':
      return new InvalidMessageError(IDENTITY_ERR.NAME_EXPIRED, `name ${n.name} expired at ${isoTime(n.expires)} (its owner may still renew it)`, { state: n.state });
    case 'free':
      return new InvalidMessageError(IDENTITY_ERR.NAME_EXPIRED, `name ${n.name} expired at ${isoTime(n.expires)} and its grace period is over (anyone may register it)`, { state: n.state });
    case 'owner-closed':
      return new InvalidMessageError(IDENTITY_ERR.CLOSED, `name ${n.name} does not resolve: its owner ${n.owner ?? '?'} closed its identity${n.backup ? ` (its backup ${n.backup} may take it over)` : ''}`, {
        state: n.state,
      });
  }
}

function isoTime(ms: number | null): string {
  return ms === null ? '?' : new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Name commitments kept on disk (commit–reveal)

/** What `name commit` leaves on disk until the reveal is committed. The salt is secret until then. */
export interface NameCommitmentFile {
  kind: 'iotchain-name-commitment';
  version: 1;
  chainId: string;
  name: string;
  /** Owner's offline address (0x-hex), inside the commitment hash. */
  owner: string;
  /** 32 random bytes, 0x-hex. */
  salt: string;
  /** nameCommitment(chainId, name, owner, salt), 0x-hex. */
  commitment: string;
  /** The commitDomainName tx, once sent. */
  commitTx: string | null;
}

function checkName(name: string): void {
  const why = nameSyntaxError(name);
  if (why !== undefined) throw new InvalidMessageError(IDENTITY_ERR.NAME_SYNTAX, `bad name ${JSON.stringify(name)}: ${why}`);
}

/**
 * Where the commitment of `name` on `chainId` is kept: DIR/names/CHAINID/NAME.json. A valid name is
 * lower-case ASCII labels and dots and a chain id `[a-z0-9-]`, so both are safe file names.
 */
export function nameCommitmentPath(dir: string, chainId: string, name: string): string {
  checkName(name);
  if (!CHAIN_ID_RE.test(chainId)) throw new InvalidMessageError(ERR.ENCODING, `invalid chain id ${JSON.stringify(chainId)}`);
  return join(dir, 'names', chainId, `${name}.json`);
}

/** The saved commitment, or undefined when there is none (or it is unreadable, or not this owner's: it is then replaced). */
export async function loadNameCommitment(dir: string, chainId: string, name: string, owner: Uint8Array): Promise<NameCommitmentFile | undefined> {
  let text: string;
  try {
    text = await readFile(nameCommitmentPath(dir, chainId, name), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(f) || f.kind !== 'iotchain-name-commitment' || f.version !== 1 || f.chainId !== chainId || f.name !== name) return undefined;
  if (typeof f.owner !== 'string' || f.owner.toLowerCase() !== toHex(owner) || typeof f.salt !== 'string' || typeof f.commitment !== 'string') return undefined;
  let salt: Uint8Array;
  try {
    salt = fromHex(f.salt, 'salt', 32);
  } catch {
    return undefined;
  }
  if (toHex(nameCommitment(chainId, name, owner, salt)) !== f.commitment.toLowerCase()) return undefined;
  return { kind: 'iotchain-name-commitment', version: 1, chainId, name, owner: toHex(owner), salt: toHex(salt), commitment: toHex(nameCommitment(chainId, name, owner, salt)), commitTx: typeof f.commitTx === 'string' ? f.commitTx : null };
}

/** Writes the file atomically, readable by its owner only. */
export async function saveNameCommitment(dir: string, f: NameCommitmentFile): Promise<string> {
  const path = nameCommitmentPath(dir, f.chainId, f.name);
  await mkdir(join(dir, 'names', f.chainId), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
  return path;
}

export async function removeNameCommitment(dir: string, chainId: string, name: string): Promise<void> {
  await rm(nameCommitmentPath(dir, chainId, name), { force: true });
}

/** A fresh commitment (new random salt) of `name` for `owner`. */
export function newNameCommitment(chainId: string, name: string, owner: Uint8Array): NameCommitmentFile {
  checkName(name);
  const salt = new Uint8Array(randomBytes(32));
  return { kind: 'iotchain-name-commitment', version: 1, chainId, name, owner: toHex(owner), salt: toHex(salt), commitment: toHex(nameCommitment(chainId, name, owner, salt)), commitTx: null };
}

// ---------------------------------------------------------------------------------------------
// The client

export interface IdentityKeys {
  online: KeyPair;
  offline: KeyPair;
}

export interface IdentityClientOptions {
  modules?: ModuleIndex;
  /** Polling interval while waiting for a block time (default 200 ms). */
  pollMs?: number;
  /** Local clock (tests). */
  now?: () => number;
}

/** Progress of a multi-step flow (for a CLI to print). */
export type NameProgress =
  | { step: 'resumed'; commitment: string; file: string; revealFrom: number }
  | { step: 'committing'; commitment: string; file: string }
  | { step: 'committed'; commitment: string; height: number | null; revealFrom: number }
  | { step: 'waiting'; revealFrom: number; headTime: number; height: number }
  | { step: 'revealing' };

/** The multi-step flows send several transactions: each takes the sender's next nonce. */
export interface CommitNameInput extends Omit<SendOptions, 'nonce'> {
  /** The owner's offline key: it commits and reveals (fully decentralized mode). */
  offline: KeyPair;
  name: string;
  /** Directory of the commitment files (the CLI uses the KEYDIR). */
  dir: string;
  onProgress?: (p: NameProgress) => void;
}

export interface CommitNameResult {
  chainId: string;
  name: string;
  owner: string;
  commitment: string;
  file: string;
  /** True when an earlier, still valid commitment was found and reused. */
  resumed: boolean;
  commitTx: TxOutcome | null;
  /** The commitment is on chain with this window (undefined when the commit was not waited for). */
  window: { height: number; revealFrom: number; revealUntil: number } | undefined;
}

export interface RegisterNameInput extends CommitNameInput {
  ip: string;
  /** Registration periods (default 1). */
  periods?: number;
  /** Backup offline address (0x-hex) that may take the name over once the owner closes its key. */
  backup?: string;
  /** Give up waiting for the minimum commitment age this long after it is reached by the local clock (default 30 s). */
  ageTimeoutMs?: number;
}

export interface RegisterNameResult extends Omit<CommitNameResult, 'commitment'> {
  /** The commitment revealed (null when nothing was sent). */
  commitment: string | null;
  /** The name was already registered to this owner (an earlier run's reveal was committed): nothing sent. */
  alreadyRegistered: boolean;
  revealTx: TxOutcome | null;
}

export class IdentityClient {
  readonly modules: ModuleIndex;
  private readonly pollMs: number;
  private readonly now: () => number;
  private chainIdCache: string | undefined;
  private paramsCache: IdentityParamsInfo | undefined;

  constructor(
    readonly rpc: RpcClient,
    opts: IdentityClientOptions = {},
  ) {
    this.modules = opts.modules ?? indexModules(defaultModules());
    this.pollMs = opts.pollMs ?? 200;
    this.now = opts.now ?? Date.now;
  }

  async chainId(): Promise<string> {
    return (this.chainIdCache ??= (await this.rpc.status()).chainId);
  }

  /** Sends one identity transaction signed by `key`. */
  async send(key: KeyPair, method: string, args: unknown, opts: SendOptions = {}): Promise<TxOutcome> {
    const chainId = await this.chainId();
    return submitTx({ rpc: this.rpc, modules: this.modules, chainId, key, module: 'identity', method, args, fee: opts.fee, nonce: opts.nonce, wait: opts.wait, timeoutMs: opts.timeoutMs });
  }

  // --- queries (unproven: for decisions the chain re-checks anyway) -----------------------------

  async params(): Promise<IdentityParamsInfo> {
    return (this.paramsCache ??= answerOf<IdentityParamsInfo>('identity/params', (await this.rpc.query('identity/params', {})).value, {
      minCommitAgeMs: 'number',
      maxCommitAgeMs: 'number',
      nameFeePerPeriod: 'string',
      maxPeriods: 'number',
    }));
  }

  async getKey(addr: Uint8Array | string): Promise<KeyInfo> {
    return keyInfoOf((await this.rpc.query('identity/getKey', { addr: typeof addr === 'string' ? addr : toHex(addr) })).value);
  }

  async keyHistory(addr: Uint8Array | string): Promise<KeyHistoryInfo> {
    return keyHistoryOf((await this.rpc.query('identity/keyHistory', { addr: typeof addr === 'string' ? addr : toHex(addr) })).value);
  }

  async resolve(name: string): Promise<NameInfo> {
    checkName(name);
    return nameInfoOf((await this.rpc.query('identity/resolveAddress', { name })).value);
  }

  async commitment(committer: Uint8Array, commitment: string): Promise<CommitmentInfo> {
    return answerOf<CommitmentInfo>('identity/commitment', (await this.rpc.query('identity/commitment', { committer: toHex(committer), commitment })).value, { found: 'boolean' });
  }

  /** The offline identity must be registered and open (the chain would refuse its name registration later). */
  async requireOpenIdentity(offline: Uint8Array): Promise<Extract<KeyInfo, { registered: true }>> {
    const k = await this.getKey(offline);
    if (!k.registered || k.offline.toLowerCase() !== toHex(offline)) {
      throw new InvalidMessageError(IDENTITY_ERR.NOT_REGISTERED, `${toHex(offline)} has no registered identity: register its online key first (identity/submitPublicKey)`);
    }
    if (k.closed) throw new InvalidMessageError(IDENTITY_ERR.CLOSED, `identity ${k.offline} was closed at height ${k.closedAt ?? '?'}`);
    return k;
  }

  /** The account `addr` must hold `need` (fees, bets, name fees are paid by the signing key's account). */
  async requireFunds(addr: Uint8Array, need: bigint, what: string): Promise<void> {
    const balance = BigInt((await this.rpc.getAccount(toHex(addr))).balance);
    if (balance < need) throw new InvalidMessageError(BANK_ERR.INSUFFICIENT_FUNDS, `${toHex(addr)} holds ${balance}, ${what} needs ${need}`, { balance: balance.toString(), need: need.toString() });
  }

  // --- keys -------------------------------------------------------------------------------------

  /** The args of submitPublicKey / updatePublicKey for `online` under `offline`, with its proof of possession. */
  async keyArgs(offline: Uint8Array, online: KeyPair): Promise<{ addr: string; keyType: number; pub: string; pop: string }> {
    const chainId = await this.chainId();
    return { addr: toHex(addressOf(online.type, online.publicKey)), keyType: online.type, pub: toHex(online.publicKey), pop: toHex(signPop(online, chainId, offline)) };
  }

  /**
   * submitPublicKey: binds the online key to the offline identity, signed by the offline key. If the
   * identity is already registered with this very online key, nothing is sent (`alreadyRegistered`).
   */
  async register(keys: IdentityKeys, opts: SendOptions = {}): Promise<{ alreadyRegistered: boolean; tx: TxOutcome | null }> {
    const offline = addressOf(keys.offline.type, keys.offline.publicKey);
    const online = addressOf(keys.online.type, keys.online.publicKey);
    const k = await this.getKey(offline);
    if (k.registered && !k.closed && k.offline.toLowerCase() === toHex(offline) && k.online.toLowerCase() === toHex(online)) return { alreadyRegistered: true, tx: null };
    return { alreadyRegistered: false, tx: await this.send(keys.offline, 'submitPublicKey', await this.keyArgs(offline, keys.online), opts) };
  }

  /**
   * updatePublicKey to `newOnline`, signed by the offline key. If the chain already has `newOnline`
   * as the identity's current key (an earlier run was committed), nothing is sent (`alreadyCurrent`).
   */
  async update(offlineKey: KeyPair, newOnline: KeyPair, opts: SendOptions = {}): Promise<{ alreadyCurrent: boolean; previous: string | null; tx: TxOutcome | null }> {
    const offline = addressOf(offlineKey.type, offlineKey.publicKey);
    const k = await this.getKey(offline);
    const next = toHex(addressOf(newOnline.type, newOnline.publicKey));
    if (k.registered && k.offline.toLowerCase() === toHex(offline) && !k.closed && k.online.toLowerCase() === next) {
      const h = await this.keyHistory(offline);
      return { alreadyCurrent: true, previous: h.entries.length >= 2 ? h.entries[h.entries.length - 2]!.online : null, tx: null };
    }
    const previous = k.registered && k.offline.toLowerCase() === toHex(offline) ? k.online : null;
    return { alreadyCurrent: false, previous, tx: await this.send(offlineKey, 'updatePublicKey', await this.keyArgs(offline, newOnline), opts) };
  }

  /** closePublicKey (irrevocable), signed by the offline key. */
  close(offlineKey: KeyPair, opts: SendOptions = {}): Promise<TxOutcome> {
    return this.send(offlineKey, 'closePublicKey', {}, opts);
  }

  /** addIncentive: `reward` (decimal string) escrowed for the identity's vouchers. */
  addIncentive(offlineKey: KeyPair, reward: string, opts: SendOptions = {}): Promise<TxOutcome> {
    return this.send(offlineKey, 'addIncentive', { reward }, opts);
  }

  /**
   * vouchKey for `target` with `bet` (decimal string) staked. The module takes the target's current
   * online key; an offline address is mapped to its identity's current key first.
   */
  async vouch(offlineKey: KeyPair, target: Uint8Array, bet: string, opts: SendOptions = {}): Promise<{ online: string; offline: string; tx: TxOutcome }> {
    const k = await this.getKey(target);
    if (!k.registered) throw new InvalidMessageError(IDENTITY_ERR.KEY_NOT_REGISTERED, `${toHex(target)} is neither a registered identity nor one of its online keys`);
    if (k.closed) throw new InvalidMessageError(IDENTITY_ERR.CLOSED, `identity ${k.offline} was closed at height ${k.closedAt ?? '?'}: it can no longer be vouched for`);
    const isOffline = bytesEqual(target, fromHex(k.offline, 'offline', 20));
    if (!isOffline && k.online.toLowerCase() !== toHex(target)) {
      throw new InvalidMessageError(IDENTITY_ERR.KEY_REVOKED, `${toHex(target)} is a revoked online key of identity ${k.offline}; its current online key is ${k.online}`);
    }
    return { online: k.online, offline: k.offline, tx: await this.send(offlineKey, 'vouchKey', { addr: k.online, bet }, opts) };
  }

  /** renewDomainName (anyone may pay: `key` is the payer). */
  renewName(key: KeyPair, name: string, periods: number, opts: SendOptions = {}): Promise<TxOutcome> {
    checkName(name);
    return this.send(key, 'renewDomainName', { name, periods }, opts);
  }

  // --- names: commit, wait, reveal ------------------------------------------------------------

  /**
   * Whether `name` can be registered by `owner` ('available'), is already active for it ('ours'), or
   * neither (throws IDENTITY_NAME_TAKEN / IDENTITY_NAME_EXPIRED) — checked before any fee is spent.
   */
  private async nameAvailability(name: string, owner: Uint8Array): Promise<'available' | 'ours'> {
    const n = await this.resolve(name);
    if (n.state === 'unregistered' || n.state === 'free') return 'available';
    const ours = n.owner !== null && n.owner.toLowerCase() === toHex(owner);
    if (ours && n.state === 'active') return 'ours';
    if (ours && n.state === 'expired') throw new InvalidMessageError(IDENTITY_ERR.NAME_EXPIRED, `name ${name} is registered to ${n.owner} but expired at ${isoTime(n.expires)}: renew it (renewDomainName)`);
    throw new InvalidMessageError(IDENTITY_ERR.NAME_TAKEN, `name ${name} is taken: owner ${n.owner ?? '?'}, state ${n.state}${n.expires !== null ? `, expires ${isoTime(n.expires)}` : ''}`, {
      owner: n.owner,
      state: n.state,
    });
  }

  /**
   * commitDomainName with a fresh salt, saved to DIR/names/CHAIN/NAME.json before the commit is sent;
   * or, when that file holds a commitment that is on chain (or whose commit tx is still pending) and
   * not too old to reveal, that one (`resumed`). The owner must be a registered, open identity and
   * the name not held by another identity.
   */
  async commitName(i: CommitNameInput): Promise<CommitNameResult> {
    checkName(i.name);
    const owner = addressOf(i.offline.type, i.offline.publicKey);
    const chainId = await this.chainId();
    await this.requireOpenIdentity(owner);
    if ((await this.nameAvailability(i.name, owner)) === 'ours') throw new InvalidMessageError(IDENTITY_ERR.NAME_TAKEN, `name ${i.name} is already registered to ${toHex(owner)}`);
    const base = { chainId, name: i.name, owner: toHex(owner) };

    const saved = await loadNameCommitment(i.dir, chainId, i.name, owner);
    if (saved) {
      const window = await this.liveWindow(owner, saved, i.timeoutMs);
      if (window) {
        const file = nameCommitmentPath(i.dir, chainId, i.name);
        i.onProgress?.({ step: 'resumed', commitment: saved.commitment, file, revealFrom: window.revealFrom });
        return { ...base, commitment: saved.commitment, file, resumed: true, commitTx: null, window };
      }
    }

    const fresh = newNameCommitment(chainId, i.name, owner);
    const file = await saveNameCommitment(i.dir, fresh);
    i.onProgress?.({ step: 'committing', commitment: fresh.commitment, file });
    const tx = await this.send(i.offline, 'commitDomainName', { commitment: fresh.commitment }, { fee: i.fee, wait: i.wait, timeoutMs: i.timeoutMs });
    if (tx.status === 'rejected' || tx.status === 'failed') {
      await removeNameCommitment(i.dir, chainId, i.name);
      throw new TxFailedError(tx);
    }
    await saveNameCommitment(i.dir, { ...fresh, commitTx: tx.hash });
    if (tx.status !== 'committed') return { ...base, commitment: fresh.commitment, file, resumed: false, commitTx: tx, window: undefined };
    const c = await this.commitment(owner, fresh.commitment);
    if (!c.found) throw new InvalidMessageError(IDENTITY_ERR.NO_COMMITMENT, `commitment ${fresh.commitment} was committed at height ${tx.height ?? '?'} but the chain does not have it`);
    i.onProgress?.({ step: 'committed', commitment: fresh.commitment, height: tx.height, revealFrom: c.revealFrom });
    return { ...base, commitment: fresh.commitment, file, resumed: false, commitTx: tx, window: { height: c.height, revealFrom: c.revealFrom, revealUntil: c.revealUntil } };
  }

  /** The reveal window of a saved commitment if it can still be revealed (waiting for its pending commit tx if needed). */
  private async liveWindow(owner: Uint8Array, saved: NameCommitmentFile, timeoutMs: number | undefined): Promise<{ height: number; revealFrom: number; revealUntil: number } | undefined> {
    let c = await this.commitment(owner, saved.commitment);
    if (!c.found && saved.commitTx !== null) {
      let st = await this.rpc.getTx(saved.commitTx).catch(() => undefined);
      if (st?.status === 'pending') st = await this.rpc.waitForTx(saved.commitTx, { timeoutMs: timeoutMs ?? DEFAULT_TX_TIMEOUT_MS }).catch(() => undefined);
      // committed while we looked (between the commitment query and getTx) or while we waited
      if (st?.status === 'committed') c = await this.commitment(owner, saved.commitment);
    }
    if (!c.found) return undefined;
    const head = await this.rpc.status();
    if (head.headTime >= c.revealUntil - REVEAL_MARGIN_MS) return undefined;
    return { height: c.height, revealFrom: c.revealFrom, revealUntil: c.revealUntil };
  }

  /**
   * Waits until the chain's head block time reaches `time`, so that the next block (which will carry
   * a transaction sent now) is at least that late. Gives up with RPC_TIMEOUT once the local clock is
   * `timeoutMs` past `time` (a halted chain); the commitment file stays, so a later run resumes.
   */
  async waitForBlockTime(time: number, opts: { timeoutMs?: number; onWait?: (s: StatusJson) => void } = {}): Promise<StatusJson> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TX_TIMEOUT_MS;
    let told = false;
    for (;;) {
      const s = await this.rpc.status();
      if (s.headTime >= time) return s;
      if (this.now() > time + timeoutMs) {
        throw new InvalidMessageError('RPC_TIMEOUT', `the chain's head time is ${isoTime(s.headTime)} at height ${s.height}; waited until ${timeoutMs} ms past ${isoTime(time)} for it to reach that time (run again to resume)`);
      }
      if (!told) opts.onWait?.(s);
      told = true;
      await delay(Math.max(10, Math.min(this.pollMs, time - s.headTime)));
    }
  }

  /**
   * Registers `name` → `ip` for the offline identity (fully decentralized mode): commit (or resume a
   * saved commitment), wait until the commitment is `minCommitAgeMs` old by block time, reveal with
   * submitDomainName. The commitment file is removed once the reveal is committed. Checks first that
   * the identity is registered, the name free and the account able to pay the name fee, so that no
   * commit is spent on a registration that would fail. Transaction failures throw TxFailedError.
   */
  async registerName(i: RegisterNameInput): Promise<RegisterNameResult> {
    checkName(i.name);
    if (!parseEndpoint(i.ip)) throw new InvalidMessageError(IDENTITY_ERR.IP_SYNTAX, `bad ip ${JSON.stringify(i.ip)}: expected a.b.c.d, an IPv6 address, a.b.c.d:port or [ipv6]:port`);
    const periods = i.periods ?? 1;
    const owner = addressOf(i.offline.type, i.offline.publicKey);
    const chainId = await this.chainId();
    const p = await this.params();
    if (!Number.isSafeInteger(periods) || periods < 1 || periods > p.maxPeriods) throw new InvalidMessageError(IDENTITY_ERR.BAD_PERIODS, `periods must be in 1..${p.maxPeriods}, got ${periods}`);
    await this.requireOpenIdentity(owner);
    if ((await this.nameAvailability(i.name, owner)) === 'ours') {
      // Ours already: an earlier run's reveal went through.
      await removeNameCommitment(i.dir, chainId, i.name);
      return { chainId, name: i.name, owner: toHex(owner), commitment: null, file: nameCommitmentPath(i.dir, chainId, i.name), resumed: true, alreadyRegistered: true, commitTx: null, revealTx: null, window: undefined };
    }
    const fee = i.fee ?? 0n;
    await this.requireFunds(owner, BigInt(p.nameFeePerPeriod) * BigInt(periods) + 2n * fee, `registering ${i.name} for ${periods} period(s) (${p.nameFeePerPeriod} per period${fee > 0n ? ` + 2 × fee ${fee}` : ''})`);

    const c = await this.commitName({ ...i, wait: true });
    if (!c.window) throw new TxFailedError(c.commitTx ?? { method: 'identity/commitDomainName', hash: '?', status: 'pending', height: null, error: null });
    await this.waitForBlockTime(c.window.revealFrom, {
      timeoutMs: i.ageTimeoutMs,
      onWait: (s) => i.onProgress?.({ step: 'waiting', revealFrom: c.window!.revealFrom, headTime: s.headTime, height: s.height }),
    });
    const saved = await loadNameCommitment(i.dir, chainId, i.name, owner);
    if (!saved || saved.commitment !== c.commitment) throw new InvalidMessageError(IDENTITY_ERR.NO_COMMITMENT, `the commitment file ${c.file} changed or disappeared while waiting`);
    i.onProgress?.({ step: 'revealing' });
    const args = { addr: toHex(owner), name: i.name, ip: i.ip, backup: i.backup ?? null, salt: saved.salt, periods };
    const tx = await this.send(i.offline, 'submitDomainName', args, { fee: i.fee, wait: i.wait, timeoutMs: i.timeoutMs });
    if (!txSucceeded(tx)) throw new TxFailedError(tx);
    if (tx.status === 'committed') await removeNameCommitment(i.dir, chainId, i.name);
    return { ...c, alreadyRegistered: false, revealTx: tx };
  }
}
