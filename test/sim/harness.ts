// A simulated network of N pure PBFT cores: seeded randomness, a virtual clock, random delays,
// drops, duplicates, reordering, partitions and heals, crashes and restarts from the WAL, and
// Byzantine validators. Safety is checked after every event; liveness after the final heal.
import {
  createState,
  defaultParams,
  quorum,
  step,
  type Commit,
  type ConsensusMessage,
  type Input,
  type NewView,
  type Output,
  type PbftParams,
  type PbftState,
  type Prepare,
  type PrePrepare,
  type WalRecord,
} from '../../consensus/core/index.js';
import { toHex } from '../../lib/hex.js';
import { EventQueue } from './eventQueue.js';
import { isValidBlock, makePayload, sha256 } from './fakeApp.js';
import { sign, signingString, verifyDeep } from './fakeSign.js';
import { Prng } from './prng.js';

/**
 * equivocator: as primary sends different PrePrepares/NewViews to different replicas, and double-votes.
 * doubleVoter: sends Prepares and Commits for two blocks. badProposer: as primary proposes invalid
 * blocks (to everyone), and votes for them. garbage: adds malformed and rule-breaking messages.
 */
export type ByzKind = 'equivocator' | 'doubleVoter' | 'badProposer' | 'garbage';

export type Fault =
  | { kind: 'partition'; groups: number[] }
  | { kind: 'heal' }
  | { kind: 'crash'; node: number }
  /** Crash inside the node's next step: right after a WAL write, before the message is sent. */
  | { kind: 'crashMidStep'; node: number }
  | { kind: 'restart'; node: number };

export interface Scenario {
  seed: number;
  n: number;
  byzantine: { index: number; kind: ByzKind }[];
  dropRate: number;
  /** Extra drop rate for Commit messages before the heal: some validators commit, others must view-change. */
  commitDropRate: number;
  dupRate: number;
  maxDelayMs: number;
  /** Share of messages delayed by up to 1 s (reordering across rounds and heights). */
  longDelayRate: number;
  execDelayMs: number;
  /** Time the primary spends building a block (the block interval), on top of execution. */
  blockTimeMs: number;
  /** Faults happen before chaosMs; at chaosMs the network heals for good and crashed nodes restart. */
  chaosMs: number;
  faults: { at: number; fault: Fault }[];
  /** After the heal, every honest node must reach (highest honest height then) + extraHeights ... */
  extraHeights: number;
  /** ... within this much virtual time. */
  livenessMs: number;
  timeouts: Pick<PbftParams, 'timeoutBaseMs' | 'timeoutMaxMs' | 'timeoutMaxExponent'>;
}

export interface SimResult {
  ok: boolean;
  error?: string;
  events: number;
  virtualMs: number;
  heights: number[];
  /** Committed heights of every node at the final heal. */
  heightsAtHeal: number[];
  decisions: number;
  evidence: number;
  rejected: number;
  viewChanges: number;
  newViews: number;
  /** NewViews that had to re-propose a prepared block. */
  reproposals: number;
  syncs: number;
  restarts: number;
}

interface StoredBlock {
  height: number;
  view: number;
  hash: Uint8Array;
  payload: Uint8Array;
  certificate: readonly Commit[];
}

interface SimNode {
  index: number;
  byz: ByzKind | undefined;
  up: boolean;
  incarnation: number;
  state: PbftState | undefined;
  inbox: Input[];
  busy: boolean;
  timerSeq: number;
  crashAfterWalWrite: boolean;
  /** Durable: the write-ahead log and the committed chain survive a crash. */
  wal: WalRecord[];
  chain: StoredBlock[];
}

type SimEvent =
  | { kind: 'deliver'; from: number; to: number; msg: unknown }
  | { kind: 'timer'; node: number; incarnation: number; seq: number; height: number; view: number }
  | { kind: 'local'; node: number; incarnation: number; input: Input }
  | { kind: 'syncRequest'; node: number; incarnation: number; peer: number; fromHeight: number }
  | { kind: 'syncResponse'; node: number; incarnation: number; peer: number; blocks: StoredBlock[] }
  | { kind: 'fault'; fault: Fault }
  | { kind: 'heal' };

const EVENT_BUDGET = 3_000_000;

export class Simulation {
  readonly rng: Prng;
  private readonly netRng: Prng;
  private readonly byzRng: Prng;
  private readonly q = new EventQueue<SimEvent>();
  private readonly nodes: SimNode[];
  private groups: number[];
  private dropRate: number;
  private healed = false;
  private target = Infinity;
  private heightsAtHeal: number[] = [];
  private readonly failures: string[] = [];
  private readonly trace: string[] = [];
  // Safety bookkeeping over honest nodes (survives crashes: it is the observer's, not the nodes').
  private readonly decided = new Map<number, string>();
  private readonly signed = new Map<string, string>();
  private readonly byzAlt = new Map<string, { a: Uint8Array; b: Uint8Array; toB: Set<number> }>();
  private stats = { decisions: 0, evidence: 0, viewChanges: 0, newViews: 0, reproposals: 0, syncs: 0, restarts: 0 };

  constructor(readonly sc: Scenario) {
    this.rng = new Prng(sc.seed);
    this.netRng = this.rng.fork();
    this.byzRng = this.rng.fork();
    this.groups = new Array<number>(sc.n).fill(0);
    this.dropRate = sc.dropRate;
    this.nodes = Array.from({ length: sc.n }, (_, index) => ({
      index,
      byz: sc.byzantine.find((b) => b.index === index)?.kind,
      up: false,
      incarnation: 0,
      state: undefined,
      inbox: [],
      busy: false,
      timerSeq: 0,
      crashAfterWalWrite: false,
      wal: [],
      chain: [],
    }));
  }

  private params(index: number): PbftParams {
    return defaultParams(this.sc.n, index, { ...this.sc.timeouts, viewWindow: 64 });
  }

  private isHonest(i: number): boolean {
    const node = this.nodes[i];
    return node !== undefined && node.byz === undefined;
  }

  private fail(msg: string): void {
    this.failures.push(`t=${this.q.now}ms: ${msg}`);
  }

  private note(msg: string): void {
    this.trace.push(`t=${this.q.now} ${msg}`);
    if (this.trace.length > 60) this.trace.shift();
  }

  run(): SimResult {
    for (const node of this.nodes) this.boot(node);
    for (const f of this.sc.faults) this.q.at(f.at, { kind: 'fault', fault: f.fault });
    this.q.at(this.sc.chaosMs, { kind: 'heal' });
    let events = 0;
    const deadline = () => this.sc.chaosMs + this.sc.livenessMs;
    for (;;) {
      const ev = this.q.pop();
      if (!ev) {
        this.fail('event queue ran dry');
        break;
      }
      events++;
      this.handle(ev);
      if (this.failures.length > 0) break; // safety: checked after every delivery
      if (this.healed && this.honestNodes().every((n) => n.chain.length >= this.target)) break;
      if (this.q.now > deadline()) {
        const hs = this.honestNodes().map((n) => `${n.index}:${n.chain.length}(v${n.state?.view ?? '-'}${n.state?.phase === 'viewChange' ? '*' : ''})`);
        this.fail(`liveness: honest nodes did not all reach height ${this.target} within ${this.sc.livenessMs}ms after the heal: ${hs.join(' ')}`);
        break;
      }
      if (events > EVENT_BUDGET) {
        this.fail(`event budget of ${EVENT_BUDGET} exhausted`);
        break;
      }
    }
    if (this.failures.length === 0) this.finalChecks();
    const rejected = this.nodes.reduce((acc, n) => acc + Object.values(n.state?.rejected ?? {}).reduce((a, b) => a + b, 0), 0);
    return {
      ok: this.failures.length === 0,
      ...(this.failures.length > 0 ? { error: `${this.failures.join('\n')}\nlast events:\n  ${this.trace.join('\n  ')}` } : {}),
      events,
      virtualMs: this.q.now,
      heights: this.nodes.map((n) => n.chain.length),
      heightsAtHeal: this.heightsAtHeal,
      decisions: this.stats.decisions,
      evidence: this.stats.evidence,
      rejected,
      viewChanges: this.stats.viewChanges,
      newViews: this.stats.newViews,
      reproposals: this.stats.reproposals,
      syncs: this.stats.syncs,
      restarts: this.stats.restarts,
    };
  }

  private honestNodes(): SimNode[] {
    return this.nodes.filter((n) => n.byz === undefined);
  }

  private finalChecks(): void {
    const honest = this.honestNodes();
    for (const a of honest) {
      for (const blk of a.chain) {
        const want = this.decided.get(blk.height);
        if (want !== toHex(blk.hash)) this.fail(`node ${a.index} holds a block at ${blk.height} that differs from the decided one`);
      }
    }
  }

  // ------------------------------------------------------------------ lifecycle

  private boot(node: SimNode): void {
    node.up = true;
    node.incarnation++;
    node.inbox = [];
    node.busy = false;
    node.state = createState(this.params(node.index), node.chain.length + 1);
    this.feed(node, { type: 'Start', wal: node.wal.slice() });
  }

  private crash(node: SimNode): void {
    if (!node.up) return;
    node.up = false;
    node.crashAfterWalWrite = false;
    node.incarnation++;
    node.state = undefined;
    node.inbox = [];
    this.note(`crash ${node.index}`);
  }

  // ------------------------------------------------------------------ events

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'deliver': {
        const node = this.nodes[ev.to] as SimNode;
        if (!node.up || !this.connected(ev.from, ev.to)) return;
        this.receive(node, ev.from, ev.msg);
        return;
      }
      case 'timer': {
        const node = this.nodes[ev.node] as SimNode;
        if (!node.up || node.incarnation !== ev.incarnation || node.timerSeq !== ev.seq) return;
        this.feed(node, { type: 'Timeout', height: ev.height, view: ev.view });
        return;
      }
      case 'local': {
        const node = this.nodes[ev.node] as SimNode;
        if (!node.up || node.incarnation !== ev.incarnation) return;
        this.feed(node, ev.input);
        return;
      }
      case 'syncRequest': {
        const peer = this.nodes[ev.peer] as SimNode;
        if (!peer.up || !this.connected(ev.node, ev.peer)) return;
        const blocks = peer.chain.slice(Math.max(0, ev.fromHeight - 1), ev.fromHeight - 1 + 64);
        if (blocks.length === 0) return;
        this.q.after(this.delay(), { kind: 'syncResponse', node: ev.node, incarnation: ev.incarnation, peer: ev.peer, blocks });
        return;
      }
      case 'syncResponse': {
        const node = this.nodes[ev.node] as SimNode;
        if (!node.up || node.incarnation !== ev.incarnation || !this.connected(ev.node, ev.peer)) return;
        this.applySync(node, ev.blocks);
        return;
      }
      case 'fault':
        this.applyFault(ev.fault);
        return;
      case 'heal': {
        this.healed = true;
        this.heightsAtHeal = this.nodes.map((n) => n.chain.length);
        this.groups = this.groups.map(() => 0);
        this.dropRate = 0;
        for (const node of this.nodes) {
          node.crashAfterWalWrite = false; // no faults after the final heal
          if (!node.up) {
            this.stats.restarts++;
            this.boot(node);
          }
        }
        this.target = Math.max(0, ...this.honestNodes().map((n) => n.chain.length)) + this.sc.extraHeights;
        this.note(`final heal, target height ${this.target}`);
        return;
      }
    }
  }

  private applyFault(f: Fault): void {
    if (this.healed) return;
    switch (f.kind) {
      case 'partition':
        this.groups = f.groups.slice();
        this.note(`partition ${f.groups.join('')}`);
        return;
      case 'heal':
        this.groups = this.groups.map(() => 0);
        this.note('heal');
        return;
      case 'crash':
        this.crash(this.nodes[f.node] as SimNode);
        return;
      case 'crashMidStep': {
        const node = this.nodes[f.node] as SimNode;
        if (node.up) node.crashAfterWalWrite = true;
        return;
      }
      case 'restart': {
        const node = this.nodes[f.node] as SimNode;
        if (node.up) return;
        this.stats.restarts++;
        this.note(`restart ${node.index} at height ${node.chain.length + 1}, WAL ${node.wal.length}`);
        this.boot(node);
        return;
      }
    }
  }

  private connected(a: number, b: number): boolean {
    return this.groups[a] === this.groups[b];
  }

  private delay(): number {
    const r = this.netRng;
    if (r.chance(this.sc.longDelayRate)) return r.int(1, 1000);
    return r.int(1, this.sc.maxDelayMs);
  }

  private send(from: number, to: number, msg: unknown): void {
    if (!this.connected(from, to)) return;
    if (this.netRng.chance(this.dropRate)) return;
    if (!this.healed && isCommit(msg) && this.netRng.chance(this.sc.commitDropRate)) return;
    this.q.after(this.delay(), { kind: 'deliver', from, to, msg });
    if (this.netRng.chance(this.sc.dupRate)) this.q.after(this.delay(), { kind: 'deliver', from, to, msg });
  }

  private sendAll(from: number, msg: unknown): void {
    for (let to = 0; to < this.sc.n; to++) if (to !== from) this.send(from, to, msg);
  }

  // ------------------------------------------------------------------ the driver of one node

  /** Driver's admission: verify every signature; garbage that cannot even be read goes to the core as is. */
  private receive(node: SimNode, from: number, raw: unknown): void {
    const msg = raw as ConsensusMessage;
    let verdict: 'ok' | 'bad' | 'unreadable';
    try {
      const author = (raw as { from?: unknown }).from;
      if (typeof author !== 'number' || !Number.isInteger(author) || author < 0 || author >= this.sc.n) verdict = 'unreadable';
      else verdict = verifyDeep(msg) ? 'ok' : 'bad';
    } catch {
      verdict = 'unreadable';
    }
    if (verdict === 'bad') return; // a real driver drops it and scores the peer down
    if (verdict === 'unreadable' && this.isHonest(from)) this.fail(`honest node ${from} sent an unreadable message`);
    this.feed(node, msg);
  }

  private feed(node: SimNode, input: Input): void {
    node.inbox.push(input);
    if (node.busy) return;
    node.busy = true;
    try {
      while (node.inbox.length > 0 && node.up && node.state) {
        const inp = node.inbox.shift() as Input;
        let r: { state: PbftState; out: Output[] };
        try {
          r = step(node.state, inp);
        } catch (err) {
          this.fail(`node ${node.index} core threw on ${describe(inp)}: ${(err as Error).stack ?? String(err)}`);
          return;
        }
        node.state = r.state;
        for (const o of r.out) {
          if (!node.up) break; // crashed in the middle of this step: the rest is lost
          this.output(node, o);
        }
      }
    } finally {
      node.busy = false;
    }
  }

  private output(node: SimNode, o: Output): void {
    const i = node.index;
    switch (o.type) {
      case 'Broadcast': {
        if (o.msg.signature.length !== 0) this.fail(`node ${i} core output a Broadcast that is already signed`);
        const signed = sign(o.msg);
        if (!node.byz) this.recordSigned(i, signed);
        node.wal.push({ kind: 'sent', msg: signed });
        if (node.crashAfterWalWrite) {
          this.note(`node ${i} crashes after logging ${describe(signed)}, before sending it`);
          this.crash(node);
          return;
        }
        if (signed.type === 'ViewChange') this.stats.viewChanges++;
        if (signed.type === 'NewView') {
          this.stats.newViews++;
          if (signed.viewChanges.some((vc) => vc.prepared !== undefined)) this.stats.reproposals++;
        }
        if (node.byz) this.byzantineSend(node, signed);
        else this.sendAll(i, signed);
        node.inbox.push(signed);
        return;
      }
      case 'Rebroadcast':
        if (!node.byz && o.msg.from === i) this.recordSigned(i, o.msg);
        this.sendAll(i, o.msg);
        return;
      case 'PersistWal':
        node.wal.push(o.record);
        if (node.crashAfterWalWrite) {
          this.note(`node ${i} crashes after persisting a prepared certificate, before its Commit`);
          this.crash(node);
        }
        return;
      case 'ScheduleTimeout': {
        const seq = ++node.timerSeq;
        if (o.durationMs > this.sc.timeouts.timeoutMaxMs || o.durationMs < this.sc.timeouts.timeoutBaseMs) {
          this.fail(`node ${i} scheduled an unbounded timeout ${o.durationMs}ms`);
        }
        this.q.after(o.durationMs, { kind: 'timer', node: i, incarnation: node.incarnation, seq, height: o.height, view: o.view });
        return;
      }
      case 'Propose': {
        const payload = makePayload(o.height, i, this.byzRng.bytes(16));
        const input: Input = { type: 'ProposalReady', height: o.height, view: o.view, blockHash: sha256(payload), payload };
        this.q.after(this.sc.blockTimeMs + this.rng.int(1, this.sc.execDelayMs), { kind: 'local', node: i, incarnation: node.incarnation, input });
        return;
      }
      case 'ExecuteBlock': {
        const valid = node.chain.length === o.height - 1 && isValidBlock(o.payload, o.blockHash, o.height, this.sc.n);
        const input: Input = { type: 'BlockExecuted', height: o.height, view: o.view, blockHash: o.blockHash, valid };
        this.q.after(this.rng.int(1, this.sc.execDelayMs), { kind: 'local', node: i, incarnation: node.incarnation, input });
        return;
      }
      case 'Decide': {
        if (node.chain.length !== o.height - 1) {
          this.fail(`node ${i} decided height ${o.height} with ${node.chain.length} blocks committed`);
          return;
        }
        const why = this.checkCertificate(o.height, o.view, o.blockHash, o.certificate) ?? this.checkBlock(o.height, o.blockHash, o.payload);
        if (why) {
          this.fail(`node ${i} decided height ${o.height} on a bad certificate or block: ${why}`);
          return;
        }
        node.chain.push({ height: o.height, view: o.view, hash: o.blockHash, payload: o.payload, certificate: o.certificate });
        this.stats.decisions++;
        this.recordDecision(i, o.height, o.blockHash);
        return;
      }
      case 'Evidence': {
        this.stats.evidence++;
        const { a, b } = o;
        if (a.from !== b.from || a.type !== b.type || a.height !== b.height || !verifyDeep(a) || !verifyDeep(b)) {
          this.fail(`node ${i} output Evidence that is not two messages of one author: ${describe(a)} / ${describe(b)}`);
        } else if (this.isHonest(a.from)) {
          this.fail(`node ${i} accused honest node ${a.from}: ${describe(a)} / ${describe(b)}`);
        }
        return;
      }
      case 'RequestSync': {
        if (node.byz) return;
        const reachable = this.nodes.filter((p) => p.index !== i && p.up && this.connected(i, p.index));
        const hinted = reachable.filter((p) => o.peers.includes(p.index));
        const peers = hinted.length > 0 ? hinted : reachable;
        if (peers.length === 0) return;
        const peer = this.netRng.pick(peers).index;
        if (this.netRng.chance(this.dropRate)) return;
        this.q.after(this.delay(), { kind: 'syncRequest', node: i, incarnation: node.incarnation, peer, fromHeight: node.chain.length + 1 });
        return;
      }
      case 'Reject':
        if (o.from !== undefined && this.isHonest(o.from)) {
          this.fail(`node ${i} rejected a message of honest node ${o.from} as a fault: ${o.reason}`);
        }
        return;
    }
  }

  /** Block sync: verified certificates, re-executed blocks, then Synced to the core. */
  private applySync(node: SimNode, blocks: StoredBlock[]): void {
    let added = 0;
    for (const b of blocks) {
      if (b.height !== node.chain.length + 1) continue;
      const why = this.checkCertificate(b.height, b.view, b.hash, b.certificate) ?? this.checkBlock(b.height, b.hash, b.payload);
      if (why) {
        this.fail(`sync served a bad block at ${b.height}: ${why}`);
        return;
      }
      node.chain.push(b);
      this.recordDecision(node.index, b.height, b.hash);
      added++;
    }
    if (added > 0) {
      this.stats.syncs++;
      this.note(`node ${node.index} synced to ${node.chain.length}`);
      this.feed(node, { type: 'Synced', height: node.chain.length });
    }
  }

  private checkCertificate(height: number, view: number, hash: Uint8Array, cert: readonly Commit[]): string | undefined {
    const seen = new Set<number>();
    for (const c of cert) {
      if (c.type !== 'Commit' || c.height !== height || c.view !== view || Buffer.compare(c.blockHash, hash) !== 0) return 'certificate vote for something else';
      if (seen.has(c.from)) return 'certificate counts a validator twice';
      if (!verifyDeep(c)) return 'certificate signature invalid';
      seen.add(c.from);
    }
    return seen.size >= quorum(this.sc.n) ? undefined : `certificate has ${seen.size} < ${quorum(this.sc.n)} votes`;
  }

  private checkBlock(height: number, hash: Uint8Array, payload: Uint8Array): string | undefined {
    return isValidBlock(payload, hash, height, this.sc.n) ? undefined : 'invalid block';
  }

  // ------------------------------------------------------------------ safety bookkeeping

  private recordDecision(i: number, height: number, hash: Uint8Array): void {
    if (!this.isHonest(i)) return;
    const h = toHex(hash);
    const prior = this.decided.get(height);
    if (prior === undefined) this.decided.set(height, h);
    else if (prior !== h) this.fail(`SAFETY: node ${i} decided ${h.slice(0, 10)} at height ${height}, another honest node ${prior.slice(0, 10)}`);
  }

  /** No honest validator signs two different messages of one kind for one (height, view), even across restarts. */
  private recordSigned(i: number, m: ConsensusMessage): void {
    const view = m.type === 'ViewChange' ? m.newView : m.view;
    const what = signingString(m).split('|').slice(4).join('|');
    const kinds: [string, string][] = [[m.type, m.type === 'NewView' ? toHex(m.prePrepare.blockHash) : what]];
    if (m.type === 'NewView') kinds.push(['PrePrepare', toHex(m.prePrepare.blockHash)]);
    for (const [kind, digest] of kinds) {
      const key = `${i}/${m.height}/${kind}/${view}`;
      const prior = this.signed.get(key);
      if (prior === undefined) this.signed.set(key, digest);
      else if (prior !== digest) this.fail(`SAFETY: honest node ${i} signed two different ${kind} for height ${m.height} view ${view}`);
    }
  }

  // ------------------------------------------------------------------ Byzantine behaviour

  private byzantineSend(node: SimNode, m: ConsensusMessage): void {
    const i = node.index;
    const r = this.byzRng;
    const others = r.shuffle([...Array(this.sc.n).keys()].filter((x) => x !== i));
    const half = new Set(others.slice(0, Math.floor(others.length / 2)));
    if (node.byz === 'garbage') {
      this.sendAll(i, m);
      const count = r.int(0, 3);
      for (let k = 0; k < count; k++) this.send(i, r.pick(others.length > 0 ? others : [i]), this.garbage(node, m));
      return;
    }
    const key = `${m.height}/${m.type === 'ViewChange' ? m.newView : m.view}`;
    if (node.byz === 'badProposer') {
      if (m.type === 'PrePrepare' || m.type === 'NewView') {
        // A block for another height, or one whose hash does not match: no correct replica may vote for it.
        const payload = makePayload(m.height + r.int(1, 3), i, r.bytes(16));
        const hash = r.chance(0.5) ? sha256(payload) : r.bytes(32);
        const bad: ConsensusMessage =
          m.type === 'PrePrepare'
            ? sign<PrePrepare>({ ...m, blockHash: hash, payload, signature: new Uint8Array(0) })
            : sign<NewView>({ ...m, prePrepare: { ...m.prePrepare, blockHash: hash, payload, signature: new Uint8Array(0) }, signature: new Uint8Array(0) });
        this.byzAlt.set(key, { a: hash, b: hash, toB: new Set() });
        this.sendAll(i, bad);
        return;
      }
      const known = this.byzAlt.get(key);
      if ((m.type === 'Prepare' || m.type === 'Commit') && known) {
        this.sendAll(i, sign<Prepare | Commit>({ ...m, blockHash: known.a, signature: new Uint8Array(0) }));
        return;
      }
      this.sendAll(i, m);
      return;
    }
    if (node.byz === 'equivocator' && (m.type === 'PrePrepare' || m.type === 'NewView')) {
      // The other block is valid, or now and then invalid (a payload for another height).
      const payload = makePayload(r.chance(0.2) ? m.height + 1 : m.height, i, r.bytes(16));
      const hash = sha256(payload);
      let alt: ConsensusMessage;
      if (m.type === 'PrePrepare') {
        alt = sign<PrePrepare>({ ...m, blockHash: hash, payload, signature: new Uint8Array(0) });
      } else {
        const pp: PrePrepare = { ...m.prePrepare, blockHash: hash, payload, signature: new Uint8Array(0) };
        alt = sign<NewView>({ ...m, prePrepare: pp, signature: new Uint8Array(0) });
      }
      const original = m.type === 'PrePrepare' ? m.blockHash : m.prePrepare.blockHash;
      this.byzAlt.set(key, { a: original, b: hash, toB: half });
      for (const to of others) this.send(i, to, half.has(to) ? alt : m);
      // Now and then one replica gets both: it must output Evidence and keep the first.
      if (others.length > 0 && r.chance(0.3)) {
        const to = r.pick(others);
        this.send(i, to, half.has(to) ? m : alt);
      }
      return;
    }
    if (m.type === 'Prepare' || m.type === 'Commit') {
      const known = this.byzAlt.get(key);
      const other = known ? (Buffer.compare(known.a, m.blockHash) === 0 ? known.b : known.a) : r.bytes(32);
      const toOther = known ? known.toB : half;
      const alt = sign<Prepare | Commit>({ ...m, blockHash: other, signature: new Uint8Array(0) });
      for (const to of others) this.send(i, to, toOther.has(to) ? alt : m);
      return;
    }
    this.sendAll(i, m);
  }

  /** Messages no correct validator sends, signed with the Byzantine node's own key where it helps them pass the driver. */
  private garbage(node: SimNode, m: ConsensusMessage): unknown {
    const r = this.byzRng;
    const i = node.index;
    const h = m.height;
    const s = <M extends ConsensusMessage>(x: M): M => sign(x, i);
    const empty = new Uint8Array(0);
    switch (r.int(0, 14)) {
      case 0:
        return null;
      case 1:
        return { type: 'Commit', from: i };
      case 2:
        return { type: 'NewView', from: i, height: h, view: 3, viewChanges: 'x', prePrepare: 7, signature: empty };
      case 3:
        return { ...m, from: this.sc.n + r.int(0, 5) }; // unknown validator index
      case 4:
        return s<Prepare>({ type: 'Prepare', from: i, height: h, view: 0, blockHash: r.bytes(5), signature: empty }); // short hash
      case 5:
        return s<Commit>({ type: 'Commit', from: i, height: h + 1000, view: 0, blockHash: r.bytes(32), signature: empty });
      case 6:
        return s<Commit>({ type: 'Commit', from: i, height: h, view: 1_000_000, blockHash: r.bytes(32), signature: empty });
      case 7: {
        const payload = makePayload(h, i, r.bytes(16));
        return s<PrePrepare>({ type: 'PrePrepare', from: i, height: h, view: 0, blockHash: sha256(payload), payload, signature: empty });
      }
      case 8: {
        const payload = makePayload(h, i, r.bytes(16));
        return s<PrePrepare>({ type: 'PrePrepare', from: i, height: h, view: 2, blockHash: sha256(payload), payload, signature: empty });
      }
      case 9: {
        // A ViewChange with a forged-looking certificate: its own Prepare repeated.
        const payload = makePayload(h, i, r.bytes(16));
        const hash = sha256(payload);
        const pp = s<PrePrepare>({ type: 'PrePrepare', from: i, height: h, view: 0, blockHash: hash, payload, signature: empty });
        const pr = s<Prepare>({ type: 'Prepare', from: i, height: h, view: 0, blockHash: hash, signature: empty });
        return s({ type: 'ViewChange', from: i, height: h, newView: 5, prepared: { view: 0, blockHash: hash, prePrepare: pp, prepares: [pr, pr, pr] }, signature: empty });
      }
      case 10: {
        // A NewView from a validator that is not primary of that view, with too few ViewChanges.
        const payload = makePayload(h, i, r.bytes(16));
        const pp: PrePrepare = { type: 'PrePrepare', from: i, height: h, view: 1, blockHash: sha256(payload), payload, signature: empty };
        const vc = s({ type: 'ViewChange', from: i, height: h, newView: 1, signature: empty });
        return s<NewView>({ type: 'NewView', from: i, height: h, view: 1, viewChanges: [vc], prePrepare: pp, signature: empty });
      }
      case 11:
        return s<Prepare>({ type: 'Prepare', from: i, height: h, view: (i - h + this.sc.n * 8) % this.sc.n, blockHash: r.bytes(32), signature: empty }); // from the primary
      case 12:
        return { ...m, signature: r.bytes(32) }; // bad signature: the driver drops it
      case 13:
        return s({ type: 'ViewChange', from: i, height: h, newView: r.int(1, 60), signature: empty }); // a lone push to some view
      default:
        return s<Commit>({ type: 'Commit', from: i, height: Math.max(1, h - 1), view: 0, blockHash: r.bytes(32), signature: empty }); // stale
    }
  }
}

function isCommit(x: unknown): boolean {
  return typeof x === 'object' && x !== null && (x as { type?: unknown }).type === 'Commit';
}

function describe(x: unknown): string {
  if (typeof x !== 'object' || x === null) return String(x);
  const m = x as Partial<ConsensusMessage> & { view?: number; newView?: number };
  return `${String(m.type)}(from ${String(m.from)}, h ${String(m.height)}, v ${String(m.view ?? m.newView)})`;
}

export function runScenario(sc: Scenario): SimResult {
  return new Simulation(sc).run();
}
