// View change (Castro–Liskov §4.4): on timeout a validator asks for view+1 carrying its highest
// prepared certificate; the new primary gathers quorum() ViewChanges and sends a NewView that
// re-proposes the highest prepared block (else a new block); f+1 ViewChanges for higher views make
// a validator join the view they vouch for.
import { bytesEqual } from '../../lib/hex.js';
import { primaryOf, quorum, timeoutFor, weakQuorum } from './params.js';
import { acceptPrePrepare, checkCommitted, checkPrepared, EMPTY_SIG, recordPrePrepare } from './round.js';
import { evidence, hex, mapSet, recordVote, reject, voteKey } from './state.js';
import type { NewView, Output, PbftState, PreparedCertificate, PrePrepare, ProposalReadyInput, ViewChange } from './types.js';
import { checkNewViewRules, digestOf, highestCertificate } from './validate.js';

/** Leaves the current view for `newView` (> view): ViewChange with the highest prepared certificate. */
export function startViewChange(s: PbftState, newView: number, out: Output[]): PbftState {
  let next: PbftState = { ...s, view: newView, phase: 'viewChange', accepted: undefined, execution: 'none', proposing: false, ownProposal: undefined };
  const vc: ViewChange = { type: 'ViewChange', from: s.params.self, height: s.height, newView, prepared: s.prepared, signature: EMPTY_SIG };
  const voted = recordVote(next, vc);
  if (voted && voted !== next) {
    out.push({ type: 'Broadcast', msg: vc });
    next = voted;
  }
  out.push({ type: 'ScheduleTimeout', height: s.height, view: newView, durationMs: timeoutFor(s.params, newView) });
  next = maybeJoin(next, out);
  return tryNewView(next, out);
}

export function onViewChange(s: PbftState, vc: ViewChange, out: Output[]): PbftState {
  const prior = s.viewChanges.get(vc.from);
  if (prior) {
    if (prior.newView > vc.newView) return reject(s, 'staleView', out);
    if (prior.newView === vc.newView) {
      return digestOf(prior, hex) === digestOf(vc, hex) ? reject(s, 'duplicate', out) : evidence(s, prior, vc, out);
    }
  }
  let next: PbftState = { ...s, viewChanges: mapSet(s.viewChanges, vc.from, vc) };
  const cert = vc.prepared;
  if (cert && !next.blocks.has(hex(cert.blockHash))) {
    next = { ...next, blocks: mapSet(next.blocks, hex(cert.blockHash), cert.prePrepare.payload) };
    next = checkCommitted(next, out);
    if (next.height !== s.height) return next;
  }
  next = maybeJoin(next, out);
  return tryNewView(next, out);
}

/**
 * f+1 validators asked for views above ours: at least one correct validator is there, so join
 * the highest view that f+1 of them vouch for (the (f+1)-th largest of their latest requests).
 */
export function maybeJoin(s: PbftState, out: Output[]): PbftState {
  const higher: number[] = [];
  for (const vc of s.viewChanges.values()) if (vc.from !== s.params.self && vc.newView > s.view) higher.push(vc.newView);
  const need = weakQuorum(s.params.n);
  if (higher.length < need) return s;
  higher.sort((a, b) => b - a);
  return startViewChange(s, higher[need - 1] as number, out);
}

/** ViewChanges for exactly the current view, by ascending author. */
function currentViewChanges(s: PbftState): ViewChange[] {
  return [...s.viewChanges.values()].filter((vc) => vc.newView === s.view).sort((a, b) => a.from - b.from);
}

/** As the new primary with quorum() ViewChanges: re-propose the highest prepared block, else ask for a new one. */
export function tryNewView(s: PbftState, out: Output[]): PbftState {
  if (s.phase !== 'viewChange' || primaryOf(s.height, s.view, s.params.n) !== s.params.self) return s;
  if (s.votes.get(voteKey(s.height, 'NewView', s.view)) !== undefined) return s;
  const vcs = currentViewChanges(s);
  if (vcs.length < quorum(s.params.n)) return s;
  const best = highestCertificate(vcs);
  if (best) return sendNewView(s, vcs, best.prePrepare.payload, best.blockHash, out);
  if (s.proposing) return s;
  out.push({ type: 'Propose', height: s.height, view: s.view });
  return { ...s, proposing: true };
}

function sendNewView(s: PbftState, vcs: ViewChange[], payload: Uint8Array, blockHash: Uint8Array, out: Output[]): PbftState {
  const pp: PrePrepare = { type: 'PrePrepare', from: s.params.self, height: s.height, view: s.view, blockHash, payload, signature: EMPTY_SIG };
  const nv: NewView = { type: 'NewView', from: s.params.self, height: s.height, view: s.view, viewChanges: vcs, prePrepare: pp, signature: EMPTY_SIG };
  const next = recordVote(s, nv);
  if (!next) return reject(s, 'voteConflict', out);
  if (next === s) return s;
  out.push({ type: 'Broadcast', msg: nv });
  return next;
}

/** The driver built a new block for the NewView this validator owes (no prepared certificate existed). */
export function onProposalReadyNewView(s: PbftState, inp: ProposalReadyInput, out: Output[]): PbftState {
  const vcs = currentViewChanges(s);
  const next: PbftState = { ...s, proposing: false };
  if (vcs.length < quorum(s.params.n)) return next;
  // A certificate may have arrived while the block was being built: it must win.
  const best: PreparedCertificate | undefined = highestCertificate(vcs);
  if (best) return sendNewView(next, vcs, best.prePrepare.payload, best.blockHash, out);
  return sendNewView({ ...next, ownProposal: { view: s.view, blockHash: inp.blockHash } }, vcs, inp.payload, inp.blockHash, out);
}

/**
 * A NewView for (height, view ≥ current): validated (quorum() ViewChanges, chosen block), then
 * the validator enters the view and handles its PrePrepare.
 */
export function onNewView(s: PbftState, nv: NewView, out: Output[]): PbftState {
  const rule = checkNewViewRules(nv, s.params);
  if (rule) return reject(s, rule, out, nv.from);
  const pp = nv.prePrepare;
  const seen = s.rounds.get(nv.view)?.prePrepare;
  if (seen) {
    if (!bytesEqual(seen.blockHash, pp.blockHash)) return evidence(s, seen, pp, out);
    if (nv.view < s.view || s.accepted !== undefined) return reject(s, 'duplicate', out);
  } else if (nv.view < s.view) {
    // Stale for voting, but its payload can complete a commit quorum of that view.
    const r = recordPrePrepare(s, pp, out);
    return checkCommitted(reject(r.s, 'staleView', out), out);
  }
  if (nv.view === s.view && s.accepted !== undefined) return reject(s, 'duplicate', out);
  let next: PbftState = seen ? s : recordPrePrepare(s, pp, out).s;
  // Its ViewChanges are as good as received: they feed the join rule and the relays.
  let vcs = next.viewChanges;
  for (const vc of nv.viewChanges) {
    const prior = vcs.get(vc.from);
    if (!prior || prior.newView < vc.newView) vcs = mapSet(vcs, vc.from, vc);
  }
  next = { ...next, viewChanges: vcs };
  const keepOwn = next.ownProposal !== undefined && next.ownProposal.view === nv.view;
  next = {
    ...next,
    view: nv.view,
    phase: 'normal',
    accepted: undefined,
    execution: 'none',
    proposing: false,
    ownProposal: keepOwn ? next.ownProposal : undefined,
  };
  out.push({ type: 'ScheduleTimeout', height: next.height, view: next.view, durationMs: timeoutFor(next.params, next.view) });
  const height = next.height;
  next = acceptPrePrepare(next, pp, out);
  if (next.height !== height) return next;
  return checkPrepared(next, out);
}
