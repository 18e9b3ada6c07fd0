// The PBFT driver: everything around the pure core (consensus/core) that touches the world —
// signature checks on inbound messages, signing and WAL-persisting own messages before they leave,
// timers, the application seam (prepareProposal / processProposal / commit), block sync and
// evidence. Inputs are fed to the core one at a time from a queue, so the core's order is the
// driver's order; every output is carried out, in order, before the next input is taken.
import { step, createState, defaultParams, checkMessageShape, type PbftParams, type PbftState, type Input, type Output, type ConsensusMessage, type Commit } from './core/index.js';
import { checkCertifiedBlocks, decodeMessage, encodeMessage, signMessage, verifyMessage } from './messages.js';
import type { Wal } from './wal.js';
import type { TxSource } from './txSource.js';
import { gatherTxs, gatherPlan } from './gather.js';
import type { Application, CommittedBlock } from '../state/application.js';
import { decodeBlock, encodeBlock, blockHash, validatorAddress, type Block, type CommitCertificate, type Validator } from '../state/block.js';
import type { KeyPair } from '../crypto/keys.js';
import { bytesEqual, bytesKey } from '../lib/hex.js';
import { sha256 } from '../crypto/hash.js';
import { TwoGenerationCache } from '../lib/twoGenCache.js';
import { errorMessage } from '../lib/errors.js';
import { NO_LOG, type Log } from '../lib/log.js';

export interface ConsensusNet {
  /** Sends to every other validator. */
  broadcast(msg: Uint8Array): Promise<void>;
}

export interface Timers {
  set(ms: number, fn: () => void): unknown;
  clear(handle: unknown): void;
}

/** The injected logger (lib/log.ts). */
export type DriverLog = Log;

export interface DriverOptions {
  app: Application;
  txs: TxSource;
  /** This validator's P-256 consensus key. */
  key: KeyPair;
  wal: Wal;
  net: ConsensusNet;
  /** Fetches and commits certified blocks fromHeight..toHeight-1; returns the last height committed. */
  sync?: (fromHeight: number, toHeight: number, peers: readonly number[]) => Promise<number>;
  /** Called once per pair of conflicting signed messages (equivocation evidence). */
  evidence?: (a: ConsensusMessage, b: ConsensusMessage) => void;
  /**
   * Someone sent something no correct validator sends (score it down): the peer a message came from
   * (`peer`, as given to deliver) for anything judged on that delivery, or a validator by index
   * (`validator`) only for equivocation, which its own two signatures prove whoever relayed them.
   * Never the author a message merely claims: a peer could name an honest validator in garbage, or
   * replay an honest validator's signed message where it does not belong (audit, session 7).
   */
  penalize?: (culprit: Culprit, reason: string) => void;
  params?: Partial<PbftParams>;
  maxBlockTxs: number;
  maxBlockBytes: number;
  /** A primary with no transaction waits at most this long before proposing an empty block (< the round timeout). */
  emptyBlockIntervalMs?: number;
  /**
   * A primary with transactions waits this long first, so a burst goes into one block; at view 0 it
   * waits on while transactions keep arriving, up to `blockDelayMaxMs` (consensus/gather.ts).
   */
  blockDelayMs?: number;
  /** The longest a primary at view 0 gathers transactions, and never longer than the last round took (default: `blockDelayMs`, one step). */
  blockDelayMaxMs?: number;
  now?: () => number;
  timers?: Timers;
  log?: DriverLog;
  onCommit?: (b: CommittedBlock, view: number) => void;
  onViewChange?: (height: number, view: number, reason: 'timeout' | 'joined') => void;
  /** After a validator-set change took effect (the set that signs from the next height on). */
  onValidatorSet?: (validators: readonly Validator[]) => void;
  onError?: (e: unknown) => void;
}

const realTimers: Timers = { set: (ms, fn) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout) };

/** Whom a penalty is for: the peer that delivered a message, or a validator its signatures convict. */
export type Culprit = { peer: string } | { validator: number };

/** Marks the end of one step's outputs in the drain loop: the WAL is synced there. */
const SYNC_WAL = { type: 'SyncWal' } as const;

export class PbftDriver {
  private state: PbftState;
  private readonly queue: Input[] = [];
  private running = false;
  private draining: Promise<void> | undefined;
  private timer: unknown;
  private syncing = false;
  private validators: Validator[];
  self: number;
  /**
   * Not a member of the set in force (a validator added later that starts from genesis, or one that
   * was removed): the core does not run; consensus messages for heights ahead of the local chain only
   * trigger block sync, and when a synced block makes this node a member it starts voting.
   */
  private following: boolean;
  /** The validator set the core runs with (consensus messages name validators by index in it). */
  get validatorSet(): readonly Validator[] {
    return this.validators;
  }
  private readonly chainId: string;
  private readonly timers: Timers;
  private readonly log: DriverLog;
  private stopped = false;
  private lastCommitAt = 0;
  /** The last committed round, header time → commit here (ms): bounds how long the next primary gathers. */
  private lastRoundMs = 0;
  /** Mempool admissions counted at the last commit, and that block's tx count: a primary has gathered enough once as many more arrived. */
  private admittedAtCommit = 0;
  private lastBlockTxs = 0;
  private wakeProposer: (() => void) | undefined;

  constructor(private readonly o: DriverOptions) {
    const info = o.app.info();
    this.validators = info.validators;
    this.chainId = info.chainId;
    this.self = this.validators.findIndex((v) => bytesEqual(v.consensusKey, o.key.publicKey));
    this.following = this.self < 0;
    this.timers = o.timers ?? realTimers;
    this.log = o.log ?? NO_LOG;
    this.state = createState(defaultParams(this.validators.length, Math.max(0, this.self), o.params), info.height + 1);
  }

  get height(): number {
    return this.state.height;
  }

  /** True while this node is not in the validator set and only follows the chain. */
  get isFollowing(): boolean {
    return this.following;
  }

  get view(): number {
    return this.state.view;
  }

  /** Rejection counters of the core (for metrics and tests). */
  get rejected(): Readonly<Record<string, number>> {
    return this.state.rejected;
  }

  /** A transaction arrived: a primary waiting for one proposes sooner. */
  poke(): void {
    this.wakeProposer?.();
  }

  start(): void {
    this.running = true;
    this.lastCommitAt = (this.o.now ?? Date.now)();
    if (this.following) {
      this.log.info('not in the validator set: following the chain by block sync', { height: this.o.app.info().height });
      return;
    }
    this.enqueue({ type: 'Start', wal: [...this.o.wal.records] });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    await this.draining;
  }

  /**
   * An inbound consensus message from the network (from `peer`, the connection's remote peer id):
   * decoded and signature-checked before the core sees it.
   */
  deliver(raw: Uint8Array, peer?: string): void {
    if (!this.running) return;
    let msg: ConsensusMessage;
    try {
      msg = decodeMessage(raw);
    } catch (e) {
      if (peer !== undefined) this.o.penalize?.({ peer }, `undecodable consensus message: ${errorMessage(e)}`);
      return;
    }
    if (this.following) {
      // the sender's set may not be known here yet: no signature check, the message is only a hint;
      // synced blocks are checked against their certificates
      const local = this.o.app.info().height;
      if (msg.height > local + 1) this.startSync(local + 1, msg.height, this.validators.map((_, i) => i));
      return;
    }
    // Cheap checks before the signatures (a NewView can carry n × (n + 2) of them, each ~65 µs):
    // a shape the core would refuse as a fault (counts bounded by n, known authors, sizes) costs the
    // sender; a message for a height already decided is dropped, as the core would, unverified.
    const shape = checkMessageShape(msg, this.state.params);
    if (shape) {
      if (peer !== undefined) this.o.penalize?.({ peer }, shape);
      return;
    }
    if (msg.height < this.state.height) return;
    // A message checked before (its certified blocks, then its signatures) is not checked again: a
    // retransmission, or a replay meant to burn CPU. It still goes to the core, which drops
    // duplicates cheaply and may need a retransmitted one.
    const key = bytesKey(sha256(raw));
    if (this.verified.get(key) === undefined) {
      const bad = checkCertifiedBlocks(msg) ?? verifyMessage(this.chainId, this.validators, msg);
      if (bad) {
        if (peer !== undefined) this.o.penalize?.({ peer }, bad);
        return;
      }
      this.verified.set(key, true);
    }
    if (peer !== undefined) this.deliveredBy.set(msg, peer);
    this.enqueue(msg);
  }

  /** SHA-256 of the raw messages that passed checkCertifiedBlocks and verifyMessage against the set in force (cleared when it changes). */
  private readonly verified = new TwoGenerationCache<string, true>(4096);

  /** The peer each queued network message came from (penalties for what the core rejects in it). */
  private readonly deliveredBy = new WeakMap<object, string>();
  /** The peer whose message the core is stepping now (undefined for own messages, timers, results). */
  private stepping: string | undefined;

  private enqueue(input: Input): void {
    if (this.stopped || this.following) return;
    this.queue.push(input);
    this.kick();
  }

  /**
   * Runs drain unless it runs. An input that produces no output lets drain finish without awaiting,
   * yet `draining` is cleared one microtask later: whatever was enqueued in between (the next frame of
   * the same network chunk) would wait for some later input. So the finally drains again.
   */
  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0 && !this.stopped) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const input = this.queue.shift()!;
      this.stepping = this.deliveredBy.get(input);
      const { state, out } = step(this.state, input);
      const before = this.state;
      this.state = state;
      if (state.view !== before.view && state.height === before.height) this.o.onViewChange?.(state.height, state.view, input.type === 'Timeout' ? 'timeout' : 'joined');
      for (const o of [...out, SYNC_WAL]) {
        try {
          // whatever this step persisted is durable before the next input is taken
          if (o.type === 'SyncWal') this.o.wal.sync();
          else await this.carryOut(o);
        } catch (e) {
          this.log.error('consensus output failed; halting', { type: o.type, err: errorMessage(e) });
          this.stopped = true;
          this.o.onError?.(e);
          return;
        }
      }
    }
  }

  /**
   * Decoded blocks by payload object. The core hands the same payload object to ExecuteBlock and to
   * Decide, so a block is decoded once per validator (and the primary's own payload maps to the block
   * it built). Nothing mutates a decoded block.
   */
  private readonly decodedBlocks = new WeakMap<Uint8Array, Block>();

  private blockOf(payload: Uint8Array): Block {
    let b = this.decodedBlocks.get(payload);
    if (b === undefined) {
      b = decodeBlock(payload);
      this.decodedBlocks.set(payload, b);
    }
    return b;
  }

  private async carryOut(o: Output): Promise<void> {
    switch (o.type) {
      case 'Broadcast': {
        const signed = signMessage(this.chainId, this.o.key, o.msg);
        // durable before it leaves, with any record this step wrote before it (one fsync)
        this.o.wal.append({ kind: 'sent', msg: signed });
        await this.o.net.broadcast(encodeMessage(signed)).catch((e) => this.log.warn('broadcast failed', { err: errorMessage(e) }));
        this.enqueue(signed); // count our own vote
        return;
      }
      case 'Rebroadcast':
        this.o.wal.sync();
        await this.o.net.broadcast(encodeMessage(o.msg)).catch(() => undefined);
        return;
      case 'PersistWal':
        // synced by the Broadcast that follows it (the core sends the Commit right after a prepared
        // certificate) or at the end of this step's outputs, whichever comes first
        this.o.wal.append(o.record, { sync: false });
        return;
      case 'ScheduleTimeout': {
        if (this.timer !== undefined) this.timers.clear(this.timer);
        const { height, view } = o;
        this.timer = this.timers.set(o.durationMs, () => {
          this.timer = undefined;
          this.enqueue({ type: 'Timeout', height, view });
        });
        return;
      }
      case 'Propose':
        // off the queue: the primary waits for transactions (or the heartbeat) without blocking
        // the core, which ignores a ProposalReady that comes too late for its round
        void this.propose(o.height, o.view).catch((e) => this.log.warn('proposal failed', { height: o.height, err: errorMessage(e) }));
        return;
      case 'ExecuteBlock': {
        let valid = false;
        try {
          const block = this.blockOf(o.payload);
          if (bytesEqual(blockHash(block.header), o.blockHash)) {
            const r = await this.o.app.processProposal(block);
            valid = r.accept;
            if (!r.accept) this.log.warn('rejected proposal', { height: o.height, view: o.view, reason: r.reason });
          }
        } catch (e) {
          this.log.warn('undecodable proposal', { height: o.height, err: errorMessage(e) });
        }
        this.enqueue({ type: 'BlockExecuted', height: o.height, view: o.view, blockHash: o.blockHash, valid });
        return;
      }
      case 'Decide': {
        const info = this.o.app.info();
        if (info.height >= o.height) return; // already committed (block sync got there first)
        const block = this.blockOf(o.payload);
        const cert: CommitCertificate = {
          height: o.height,
          view: o.view,
          blockHash: o.blockHash,
          votes: [...o.certificate].sort((a: Commit, b: Commit) => a.from - b.from).map((c) => ({ validatorIndex: c.from, signature: c.signature })),
        };
        const committed = await this.o.app.commit(block, cert, o.payload); // the payload is the block's canonical encoding
        this.lastCommitAt = (this.o.now ?? Date.now)();
        this.lastRoundMs = Math.max(0, this.lastCommitAt - block.header.time);
        this.admittedAtCommit = this.o.txs.admitted;
        this.lastBlockTxs = committed.txIdsHex.length;
        this.o.wal.reset();
        this.o.txs.update(committed.txIdsHex);
        this.o.onCommit?.(committed, o.view);
        this.followValidatorSet();
        return;
      }
      case 'Evidence':
        this.log.warn('equivocation', { from: o.a.from, type: o.a.type, height: o.a.height });
        this.o.evidence?.(o.a, o.b);
        return;
      case 'RequestSync':
        this.startSync(o.fromHeight, o.height, o.peers);
        return;
      case 'Reject':
        // equivocation is proven by the author's own signatures; anything else is charged to the peer
        // that delivered the message being stepped (none for messages the core had buffered)
        if (o.reason === 'equivocation' && o.from !== undefined) this.o.penalize?.({ validator: o.from }, o.reason);
        else if (this.stepping !== undefined) this.o.penalize?.({ peer: this.stepping }, o.reason);
        return;
    }
  }

  private async propose(height: number, view: number): Promise<void> {
    const now = this.o.now ?? Date.now;
    const heartbeat = this.o.emptyBlockIntervalMs ?? 1000;
    // wait until a transaction is ready or the heartbeat is due (view > 0: propose at once)
    while (view === 0 && this.running && this.o.txs.reap(1, this.o.maxBlockBytes).length === 0) {
      const left = heartbeat - (now() - this.lastCommitAt);
      if (left <= 0) break;
      await new Promise<void>((res) => {
        const h = this.timers.set(left, () => res());
        this.wakeProposer = () => {
          this.timers.clear(h);
          res();
        };
      });
      this.wakeProposer = undefined;
    }
    /** False once this proposal is moot (stopped, or the core moved to another height or view). */
    const live = () => this.running && this.state.height === height && this.state.view === view;
    if (this.o.txs.size > 0 && this.o.blockDelayMs) {
      // gather the burst a commit releases (consensus/gather.ts: when to stop, and the bounds)
      const plan = gatherPlan({ view, stepMs: this.o.blockDelayMs, blockDelayMaxMs: this.o.blockDelayMaxMs, lastRoundMs: this.lastRoundMs, admittedAtCommit: this.admittedAtCommit, lastBlockTxs: this.lastBlockTxs });
      await gatherTxs({ txs: this.o.txs, ...plan, fullAt: this.o.maxBlockTxs, sleep: (ms) => new Promise<void>((res) => this.timers.set(ms, res)), live });
    }
    if (!live()) return;
    if (this.o.app.info().height + 1 !== height) return; // a sync moved us on; the core will hear Synced
    const p = await this.o.app.prepareProposal({
      height,
      time: now(),
      proposer: validatorAddress(this.validators[this.self]!),
      txs: this.o.txs.reap(this.o.maxBlockTxs, this.o.maxBlockBytes),
    });
    this.o.txs.drop(p.dropped.filter((d) => !/block is full/.test(d.reason)).map((d) => d.raw));
    const payload = encodeBlock(p.block);
    this.decodedBlocks.set(payload, p.block);
    this.enqueue({ type: 'ProposalReady', height, view, blockHash: p.hash, payload });
  }

  /**
   * After a commit: if the validator set for the next height changed (a validator-set change took
   * effect), restart the core with the new n and this node's new index. A node that left the set
   * stops voting and keeps following the chain by block sync; a follower that the set now names
   * starts voting.
   */
  private followValidatorSet(): void {
    const info = this.o.app.info();
    const next = info.validators;
    const same = next.length === this.validators.length && next.every((v, i) => bytesEqual(v.consensusKey, this.validators[i]!.consensusKey));
    if (same) return;
    this.validators = next;
    this.verified.clear();
    this.self = next.findIndex((v) => bytesEqual(v.consensusKey, this.o.key.publicKey));
    this.log.info('validator set changed', { height: info.height + 1, n: next.length, self: this.self });
    this.o.onValidatorSet?.(next);
    if (this.self < 0) {
      if (!this.following) this.log.warn('this node is no longer a validator; it stops voting and follows the chain');
      this.following = true;
      this.queue.length = 0;
      if (this.timer !== undefined) this.timers.clear(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.following) this.log.info('this node is now a validator; it starts voting', { height: info.height + 1, index: this.self });
    this.following = false;
    this.state = createState(defaultParams(next.length, this.self, this.o.params), info.height + 1);
    this.queue.length = 0;
    this.enqueue({ type: 'Start', wal: [] });
  }

  private startSync(fromHeight: number, toHeight: number, peers: readonly number[]): void {
    if (this.syncing || !this.o.sync) return;
    this.syncing = true;
    void this.o
      .sync(fromHeight, toHeight, peers)
      .then((last) => {
        if (last >= fromHeight) {
          this.enqueue({ type: 'Synced', height: last });
          this.followValidatorSet();
        }
      })
      .catch((e) => this.log.warn('block sync failed', { err: errorMessage(e) }))
      .finally(() => (this.syncing = false));
  }
}
