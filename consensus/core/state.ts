// Construction of a fresh state and the small copy-on-write helpers every handler uses.
import { toHex } from '../../lib/hex.js';
import { checkParams } from './params.js';
import { FAULT_REASONS, type ConsensusMessage, type Output, type PbftParams, type PbftState, type RejectReason, type RoundLog } from './types.js';
import { digestOf, viewOf } from './validate.js';

/**
 * A core that will decide `height` (the last committed height + 1) once it receives Start.
 * After a restart, pass the WAL in Start{wal}.
 */
export function createState(params: PbftParams, height: number): PbftState {
  checkParams(params);
  if (!Number.isSafeInteger(height) || height < 1) throw new RangeError('height must be an integer ≥ 1');
  return {
    params,
    started: false,
    height,
    view: 0,
    phase: 'normal',
    accepted: undefined,
    execution: 'none',
    proposing: false,
    ownProposal: undefined,
    prepared: undefined,
    rounds: new Map(),
    viewChanges: new Map(),
    blocks: new Map(),
    executedBlocks: new Set(),
    votes: new Map(),
    evidenced: new Set(),
    future: [],
    peerHeights: new Array<number>(params.n).fill(0),
    syncRequested: 0,
    rejected: {},
  };
}

export const hex = toHex;

export const EMPTY_ROUND: RoundLog = { prePrepare: undefined, prepares: new Map(), commits: new Map() };

export function roundOf(s: PbftState, view: number): RoundLog {
  return s.rounds.get(view) ?? EMPTY_ROUND;
}

export function withRound(s: PbftState, view: number, round: RoundLog): PbftState {
  return { ...s, rounds: mapSet(s.rounds, view, round) };
}

export function mapSet<K, V>(m: ReadonlyMap<K, V>, k: K, v: V): ReadonlyMap<K, V> {
  const copy = new Map(m);
  copy.set(k, v);
  return copy;
}

export function setAdd<T>(s: ReadonlySet<T>, v: T): ReadonlySet<T> {
  const copy = new Set(s);
  copy.add(v);
  return copy;
}

const FAULTS: ReadonlySet<string> = new Set(FAULT_REASONS);

/** Counts a rejection; faults (not asynchrony or duplicates) are also output for peer scoring. */
export function reject(s: PbftState, reason: RejectReason, out: Output[], from?: unknown): PbftState {
  if (FAULTS.has(reason)) {
    out.push({ type: 'Reject', reason, from: typeof from === 'number' && Number.isSafeInteger(from) ? from : undefined });
  }
  return { ...s, rejected: { ...s.rejected, [reason]: (s.rejected[reason] ?? 0) + 1 } };
}

export function voteKey(height: number, type: ConsensusMessage['type'], view: number): string {
  return `${height}/${type}/${view}`;
}

/** Records `msg` (own) as voted; returns undefined if a different vote for its key exists. */
export function recordVote(s: PbftState, msg: ConsensusMessage): PbftState | undefined {
  const key = voteKey(msg.height, msg.type, viewOf(msg));
  const digest = digestOf(msg, hex);
  const prior = s.votes.get(key);
  if (prior !== undefined) return prior === digest ? s : undefined;
  let votes = mapSet(s.votes, key, digest);
  if (msg.type === 'NewView') {
    // A NewView is also the primary's PrePrepare for its view.
    const ppKey = voteKey(msg.height, 'PrePrepare', msg.view);
    const ppPrior = s.votes.get(ppKey);
    if (ppPrior !== undefined && ppPrior !== digest) return undefined;
    votes = mapSet(votes, ppKey, digest);
  }
  return { ...s, votes };
}

/** The recorded own vote for (height, type, view), if any. */
export function votedFor(s: PbftState, height: number, type: ConsensusMessage['type'], view: number): string | undefined {
  return s.votes.get(voteKey(height, type, view));
}

/**
 * Outputs Evidence once per (type, height, author) — one proof convicts; more only cost the node
 * storage (a Byzantine validator could otherwise equivocate a ViewChange for every view number,
 * each with a large prepared certificate). The conflicting message is counted, not used.
 */
export function evidence(s: PbftState, a: ConsensusMessage, b: ConsensusMessage, out: Output[]): PbftState {
  const key = `${b.type}/${b.height}/${b.from}`;
  let next = reject(s, 'equivocation', out, b.from);
  if (!s.evidenced.has(key)) {
    out.push({ type: 'Evidence', a, b });
    next = { ...next, evidenced: setAdd(next.evidenced, key) };
  }
  return next;
}
