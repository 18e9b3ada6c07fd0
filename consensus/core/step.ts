// step(): the single entry point of the core. One input in, a new state and the outputs out.
// Pure: no clock, timer, randomness, I/O or await; the input and the given state are never modified.
import { primaryOf, quorum, timeoutFor, weakQuorum } from './params.js';
import {
  checkCommitted,
  EMPTY_SIG,
  enterFirstRound,
  onBlockExecuted,
  onCommit,
  onPrepare,
  onPrePrepare,
  onProposalReadyFirstView,
  sendVote,
  startHeight,
} from './round.js';
import { hex, mapSet, recordVote, reject } from './state.js';
import type { ConsensusMessage, Input, Output, PbftState, StartInput, StepResult, TimeoutInput } from './types.js';
import { certificatesOf, checkMessageShape, digestOf, viewOf } from './validate.js';
import { onNewView, onProposalReadyNewView, onViewChange, startViewChange, tryNewView } from './viewChange.js';

export function step(state: PbftState, input: Input): StepResult {
  const out: Output[] = [];
  let s = dispatch(state, input, out);
  s = replayFuture(s, out);
  return { state: s, out };
}

function dispatch(s: PbftState, input: Input, out: Output[]): PbftState {
  const x: unknown = input;
  if (typeof x !== 'object' || x === null) return reject(s, 'malformed', out);
  if (input.type === 'Start') return start(s, input, out);
  if (!s.started) return reject(s, 'notStarted', out);
  switch (input.type) {
    case 'PrePrepare':
    case 'Prepare':
    case 'Commit':
    case 'ViewChange':
    case 'NewView':
      return onMessage(s, input, out);
    case 'Timeout':
      return onTimeout(s, input, out);
    case 'ProposalReady': {
      if (input.height !== s.height || input.view !== s.view || !s.proposing) return s;
      if (primaryOf(s.height, s.view, s.params.n) !== s.params.self) return s;
      if (s.phase === 'viewChange') return onProposalReadyNewView(s, input, out);
      return s.view === 0 ? onProposalReadyFirstView(s, input, out) : s;
    }
    case 'BlockExecuted':
      return onBlockExecuted(s, input, out);
    case 'Synced':
      return Number.isSafeInteger(input.height) && input.height >= s.height ? startHeight(s, input.height + 1, out) : s;
    default:
      return reject(s, 'malformed', out, (input as { from?: unknown }).from);
  }
}

/** Any consensus message from a peer or fed back from this validator (signature already verified). */
export function onMessage(s: PbftState, msg: ConsensusMessage, out: Output[]): PbftState {
  const bad = checkMessageShape(msg, s.params);
  if (bad) return reject(s, bad, out, (msg as { from?: unknown }).from);
  const next = notePeerHeight(s, msg, out);
  if (msg.height < next.height) return reject(next, 'staleHeight', out);
  if (msg.height > next.height) return buffer(next, msg, out);
  switch (msg.type) {
    case 'PrePrepare':
      return onPrePrepare(next, msg, out);
    case 'Prepare':
      return onPrepare(next, msg, out);
    case 'Commit':
      return onCommit(next, msg, out);
    case 'ViewChange':
      return onViewChange(next, msg, out);
    case 'NewView':
      return onNewView(next, msg, out);
  }
}

/**
 * Messages for the next heights wait until this validator gets there, bounded per sender by count
 * (maxBufferedPerSender) and by the block bytes they carry (2 × maxPayloadBytes: 64 PrePrepares of
 * 8 MiB each held 1 GiB per sender; audit, session 7).
 */
function buffer(s: PbftState, msg: ConsensusMessage, out: Output[]): PbftState {
  if (msg.height - s.height > s.params.heightWindow) return reject(s, 'heightTooFar', out);
  let count = 0;
  let bytes = payloadBytes(msg);
  const digest = digestOf(msg, hex);
  for (const m of s.future) {
    if (m.from !== msg.from) continue;
    if (m.type === msg.type && m.height === msg.height && viewOf(m) === viewOf(msg) && digestOf(m, hex) === digest) return reject(s, 'duplicate', out);
    count++;
    bytes += payloadBytes(m);
  }
  if (count >= s.params.maxBufferedPerSender || bytes > 2 * s.params.maxPayloadBytes) return reject(s, 'bufferFull', out);
  return { ...s, future: [...s.future, msg] };
}

/** Block bytes a message carries: its PrePrepare's payload and those of the prepared certificates in it. */
function payloadBytes(m: ConsensusMessage): number {
  const own = m.type === 'PrePrepare' ? m.payload.length : m.type === 'NewView' ? m.prePrepare.payload.length : 0;
  return certificatesOf(m).reduce((n, c) => n + c.prePrepare.payload.length, own);
}

/** After moving to a new height, handles the buffered messages that now belong to it. */
function replayFuture(s: PbftState, out: Output[]): PbftState {
  let next = s;
  for (;;) {
    const height = next.height;
    if (!next.future.some((m) => m.height === height)) return next;
    const ready = next.future.filter((m) => m.height === height);
    next = { ...next, future: next.future.filter((m) => m.height !== height) };
    for (const m of ready) next = onMessage(next, m, out);
  }
}

/** The height that at least `count` other validators have reached. */
function peerHeightReachedBy(s: PbftState, count: number): number {
  const others = s.peerHeights.filter((_, i) => i !== s.params.self).sort((a, b) => b - a);
  return others.length >= count ? (others[count - 1] as number) : 0;
}

function peersAbove(s: PbftState, height: number): number[] {
  const peers: number[] = [];
  s.peerHeights.forEach((h, i) => {
    if (i !== s.params.self && h > height) peers.push(i);
  });
  return peers;
}

/**
 * Tracks the height each validator works on. When f+1 (so at least one correct validator) are two
 * or more heights ahead, the blocks in between are decided: ask the driver to block-sync. Smaller
 * leads wait for a Timeout, since the missing Commits are usually still in flight.
 */
function notePeerHeight(s: PbftState, msg: ConsensusMessage, out: Output[]): PbftState {
  if (msg.from === s.params.self || msg.height <= (s.peerHeights[msg.from] ?? 0)) return s;
  const peerHeights = s.peerHeights.slice();
  peerHeights[msg.from] = msg.height;
  const next: PbftState = { ...s, peerHeights };
  const target = peerHeightReachedBy(next, weakQuorum(next.params.n));
  if (target >= next.height + 2 && target > next.syncRequested) {
    out.push({ type: 'RequestSync', fromHeight: next.height, height: target, peers: peersAbove(next, next.height) });
    return { ...next, syncRequested: target };
  }
  return next;
}

/**
 * The timer of the current (height, view) expired. If any peer is at a higher height, (re)try a
 * block sync (sync verifies certificates, so one peer's claim is enough to try). Relay the latest
 * ViewChanges known, so validators that lost some catch up. Then move to view+1, unless this
 * validator already waits for a view that fewer than quorum() validators have reached (asked for
 * it or a later one): then it keeps waiting (re-arming the timer), so a lone validator cannot run
 * ahead of the others forever with bounded timeouts; the others reach it (those with quorum()
 * validators at or above their view keep advancing), or f+1 of them pull it to their view.
 */
function onTimeout(s: PbftState, t: TimeoutInput, out: Output[]): PbftState {
  if (t.height !== s.height || t.view !== s.view) return s;
  // A retry: syncRequested is not raised, so one peer's claim cannot mute the f+1 trigger.
  const target = Math.max(peerHeightReachedBy(s, 1), s.syncRequested);
  if (target > s.height) out.push({ type: 'RequestSync', fromHeight: s.height, height: target, peers: peersAbove(s, s.height) });
  for (const vc of s.viewChanges.values()) out.push({ type: 'Rebroadcast', msg: vc });
  if (s.phase === 'viewChange') {
    let asked = 0;
    for (const vc of s.viewChanges.values()) if (vc.newView >= s.view) asked++;
    if (asked < quorum(s.params.n)) {
      out.push({ type: 'ScheduleTimeout', height: s.height, view: s.view, durationMs: timeoutFor(s.params, s.view) });
      return s;
    }
  }
  return startViewChange(s, s.view + 1, out);
}

/**
 * Start (and restart): restores own votes and the highest prepared certificate from the WAL,
 * resumes the latest view it voted in at this height, and replays its own messages there.
 */
function start(s: PbftState, input: StartInput, out: Output[]): PbftState {
  if (s.started) return reject(s, 'alreadyStarted', out);
  let next: PbftState = { ...s, started: true };
  const wal = Array.isArray(input.wal) ? input.wal : [];
  const own: ConsensusMessage[] = [];
  for (const rec of wal) {
    if (rec.kind === 'prepared') {
      const cert = rec.cert;
      if (checkMessageShape(cert.prePrepare, next.params) || cert.prePrepare.height !== next.height) continue;
      if (!next.prepared || cert.view > next.prepared.view) {
        next = { ...next, prepared: cert, blocks: mapSet(next.blocks, hex(cert.blockHash), cert.prePrepare.payload) };
      }
    } else if (rec.kind === 'sent') {
      const m = rec.msg;
      if (m.from !== next.params.self || checkMessageShape(m, next.params) || m.height < next.height) continue;
      next = recordVote(next, m) ?? next; // the first vote per key wins, as it did on the wire
      if (m.height === next.height) own.push(m);
    }
  }
  const view = own.reduce((v, m) => Math.max(v, viewOf(m)), 0);
  const onlyViewChange = own.every((m) => viewOf(m) !== view || m.type === 'ViewChange');
  next = { ...next, view, phase: view > 0 && onlyViewChange ? 'viewChange' : 'normal' };
  next = enterFirstRound(next, out);
  for (const m of own) if (viewOf(m) === view) out.push({ type: 'Rebroadcast', msg: m });
  for (const m of own) {
    if (next.height !== s.height) break;
    next = onMessage(next, m, out);
  }
  if (next.height !== s.height) return next;
  // Prepared in this view but crashed before the Commit went out: send it now.
  const cert = next.prepared;
  if (cert && cert.view === next.view && next.phase === 'normal') {
    next = sendVote(next, { type: 'Commit', from: next.params.self, height: next.height, view: next.view, blockHash: cert.blockHash, signature: EMPTY_SIG }, out);
    next = checkCommitted(next, out);
  }
  return next.phase === 'viewChange' ? tryNewView(next, out) : next;
}
