// The normal case: pre-prepare → execute → prepare (quorum-1 matching) → commit (quorum) → decide.
import { bytesEqual } from '../../lib/hex.js';
import { primaryOf, quorum, timeoutFor } from './params.js';
import { evidence, hex, mapSet, recordVote, reject, roundOf, setAdd, voteKey, withRound } from './state.js';
import type {
  BlockExecutedInput,
  Commit,
  Output,
  PbftState,
  PreparedCertificate,
  Prepare,
  PrePrepare,
  ProposalReadyInput,
} from './types.js';

export const EMPTY_SIG = new Uint8Array(0);

/** The primary of the current (height, view). */
export function currentPrimary(s: PbftState): number {
  return primaryOf(s.height, s.view, s.params.n);
}

export function isSelfPrimary(s: PbftState): boolean {
  return currentPrimary(s) === s.params.self;
}

/** Moves to `height` (a decided or synced predecessor), view 0, with fresh per-height state. */
export function startHeight(s: PbftState, height: number, out: Output[]): PbftState {
  const votes = new Map<string, string>();
  for (const [k, v] of s.votes) if (Number(k.slice(0, k.indexOf('/'))) >= height) votes.set(k, v);
  const next: PbftState = {
    ...s,
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
    votes,
    evidenced: new Set(),
    future: s.future.filter((m) => m.height >= height),
  };
  return enterFirstRound(next, out);
}

/** Arms the timer of view 0 and, as its primary, asks the driver for a block. */
export function enterFirstRound(s: PbftState, out: Output[]): PbftState {
  out.push({ type: 'ScheduleTimeout', height: s.height, view: s.view, durationMs: timeoutFor(s.params, s.view) });
  if (s.view === 0 && s.phase === 'normal' && isSelfPrimary(s) && s.votes.get(voteKey(s.height, 'PrePrepare', 0)) === undefined) {
    out.push({ type: 'Propose', height: s.height, view: 0 });
    return { ...s, proposing: true };
  }
  return s;
}

/**
 * Logs a PrePrepare of the current height (first one per view; a different second one is
 * evidence) and remembers its payload. `fresh` is false for duplicates and conflicts.
 */
export function recordPrePrepare(s: PbftState, pp: PrePrepare, out: Output[]): { s: PbftState; fresh: boolean } {
  const round = roundOf(s, pp.view);
  if (round.prePrepare) {
    if (bytesEqual(round.prePrepare.blockHash, pp.blockHash)) return { s: reject(s, 'duplicate', out), fresh: false };
    return { s: evidence(s, round.prePrepare, pp, out), fresh: false };
  }
  const next = withRound(s, pp.view, { ...round, prePrepare: pp });
  return { s: { ...next, blocks: mapSet(next.blocks, hex(pp.blockHash), pp.payload) }, fresh: true };
}

/** Accepts the PrePrepare of the current (height, view): executes it unless already known valid. */
export function acceptPrePrepare(s: PbftState, pp: PrePrepare, out: Output[]): PbftState {
  const h = hex(pp.blockHash);
  const own = s.ownProposal;
  const known = s.executedBlocks.has(h) || (own !== undefined && own.view === pp.view && bytesEqual(own.blockHash, pp.blockHash));
  let next: PbftState = { ...s, accepted: pp, execution: known ? 'valid' : 'pending' };
  if (!known) {
    out.push({ type: 'ExecuteBlock', height: pp.height, view: pp.view, blockHash: pp.blockHash, payload: pp.payload });
    return checkCommitted(next, out);
  }
  next = { ...next, executedBlocks: setAdd(next.executedBlocks, h) };
  return afterExecuted(next, out);
}

/** A top-level PrePrepare: only view 0 (later views come inside a NewView). */
export function onPrePrepare(s: PbftState, pp: PrePrepare, out: Output[]): PbftState {
  if (pp.view > 0) return reject(s, 'prePrepareOutsideNewView', out, pp.from);
  if (pp.from !== primaryOf(pp.height, 0, s.params.n)) return reject(s, 'notPrimary', out, pp.from);
  const r = recordPrePrepare(s, pp, out);
  if (!r.fresh) return r.s;
  if (r.s.view === 0 && r.s.phase === 'normal' && r.s.accepted === undefined) return acceptPrePrepare(r.s, pp, out);
  // Too late to vote, but its payload may complete a commit quorum of view 0.
  return checkCommitted(r.s, out);
}

/** Answer to ExecuteBlock for the accepted PrePrepare. */
export function onBlockExecuted(s: PbftState, inp: BlockExecutedInput, out: Output[]): PbftState {
  const pp = s.accepted;
  if (!pp || inp.height !== s.height || inp.view !== s.view || s.execution !== 'pending' || !bytesEqual(pp.blockHash, inp.blockHash)) {
    return s;
  }
  if (!inp.valid) return reject({ ...s, execution: 'invalid' }, 'invalidBlock', out);
  const next: PbftState = { ...s, execution: 'valid', executedBlocks: setAdd(s.executedBlocks, hex(pp.blockHash)) };
  return afterExecuted(next, out);
}

/** The accepted block is valid here: a backup votes Prepare; then quorums may be complete. */
function afterExecuted(s: PbftState, out: Output[]): PbftState {
  const pp = s.accepted;
  if (!pp) return s;
  let next = s;
  if (!isSelfPrimary(s)) {
    next = sendVote(next, { type: 'Prepare', from: s.params.self, height: s.height, view: s.view, blockHash: pp.blockHash, signature: EMPTY_SIG }, out);
  }
  return checkPrepared(next, out);
}

/** Broadcasts an own vote unless a different one for the same (height, type, view) was already sent. */
export function sendVote(s: PbftState, msg: Prepare | Commit, out: Output[]): PbftState {
  const next = recordVote(s, msg);
  if (!next) return reject(s, 'voteConflict', out);
  if (next === s) return s; // already sent (e.g. before a restart): the WAL copy was rebroadcast
  out.push({ type: 'Broadcast', msg });
  return next;
}

export function onPrepare(s: PbftState, p: Prepare, out: Output[]): PbftState {
  if (p.from === primaryOf(p.height, p.view, s.params.n)) return reject(s, 'prepareFromPrimary', out, p.from);
  if (p.view < s.view) return reject(s, 'staleView', out);
  if (p.view > s.view + s.params.viewWindow) return reject(s, 'viewTooFar', out);
  const round = roundOf(s, p.view);
  const prior = round.prepares.get(p.from);
  if (prior) return bytesEqual(prior.blockHash, p.blockHash) ? reject(s, 'duplicate', out) : evidence(s, prior, p, out);
  const next = withRound(s, p.view, { ...round, prepares: mapSet(round.prepares, p.from, p) });
  return p.view === next.view ? checkPrepared(next, out) : next;
}

export function onCommit(s: PbftState, c: Commit, out: Output[]): PbftState {
  if (c.view > s.view + s.params.viewWindow) return reject(s, 'viewTooFar', out);
  const round = roundOf(s, c.view);
  const prior = round.commits.get(c.from);
  if (prior) return bytesEqual(prior.blockHash, c.blockHash) ? reject(s, 'duplicate', out) : evidence(s, prior, c, out);
  const next = withRound(s, c.view, { ...round, commits: mapSet(round.commits, c.from, c) });
  return checkCommitted(next, out);
}

/**
 * Prepared: the accepted PrePrepare, executed as valid here, and quorum()-1 matching Prepares from
 * distinct backups. Persist the certificate, then Commit.
 */
export function checkPrepared(s: PbftState, out: Output[]): PbftState {
  const pp = s.accepted;
  if (s.phase !== 'normal' || !pp || s.execution !== 'valid') return s;
  if (s.prepared && s.prepared.view >= s.view) return checkCommitted(s, out);
  const matching = [...roundOf(s, s.view).prepares.values()]
    .filter((p) => bytesEqual(p.blockHash, pp.blockHash))
    .sort((a, b) => a.from - b.from);
  const need = quorum(s.params.n) - 1;
  if (matching.length < need) return s;
  const cert: PreparedCertificate = { view: s.view, blockHash: pp.blockHash, prePrepare: pp, prepares: matching.slice(0, need) };
  out.push({ type: 'PersistWal', record: { kind: 'prepared', cert } });
  let next: PbftState = { ...s, prepared: cert };
  next = sendVote(next, { type: 'Commit', from: s.params.self, height: s.height, view: s.view, blockHash: pp.blockHash, signature: EMPTY_SIG }, out);
  return checkCommitted(next, out);
}

/**
 * Decided: quorum() matching Commits for one (height, view, block) in any view at this height.
 * Decide needs the payload; without it, ask for block sync (the block is decided elsewhere).
 */
export function checkCommitted(s: PbftState, out: Output[]): PbftState {
  const q = quorum(s.params.n);
  for (const [view, round] of s.rounds) {
    if (round.commits.size < q) continue;
    const byHash = new Map<string, Commit[]>();
    for (const c of round.commits.values()) {
      const k = hex(c.blockHash);
      const list = byHash.get(k) ?? [];
      list.push(c);
      byHash.set(k, list);
    }
    for (const [h, commits] of byHash) {
      if (commits.length < q) continue;
      const payload = s.blocks.get(h);
      const first = commits[0] as Commit;
      if (!payload) {
        if (s.syncRequested >= s.height + 1) return s;
        out.push({ type: 'RequestSync', fromHeight: s.height, height: s.height + 1, peers: commits.map((c) => c.from).filter((i) => i !== s.params.self) });
        return { ...s, syncRequested: s.height + 1 };
      }
      out.push({
        type: 'Decide',
        height: s.height,
        view,
        blockHash: first.blockHash,
        payload,
        certificate: commits.sort((a, b) => a.from - b.from).slice(0, q),
        executed: s.executedBlocks.has(h),
      });
      return startHeight(s, s.height + 1, out);
    }
  }
  return s;
}

/** The driver built the block asked for by Propose at view 0: broadcast the PrePrepare. */
export function onProposalReadyFirstView(s: PbftState, inp: ProposalReadyInput, out: Output[]): PbftState {
  const pp: PrePrepare = {
    type: 'PrePrepare',
    from: s.params.self,
    height: s.height,
    view: 0,
    blockHash: inp.blockHash,
    payload: inp.payload,
    signature: EMPTY_SIG,
  };
  const next = recordVote(s, pp);
  if (!next) return reject({ ...s, proposing: false }, 'voteConflict', out);
  if (next === s) return { ...s, proposing: false }; // proposed this very block before a restart
  out.push({ type: 'Broadcast', msg: pp });
  return { ...next, proposing: false, ownProposal: { view: 0, blockHash: inp.blockHash } };
}

