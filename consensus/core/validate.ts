// Stateless checks of messages: shape (inputs may come from a decoder or a faulty peer, so the
// declared types are not trusted) and the structural rules of certificates and NewViews.
// Signatures are the driver's job; these checks only need the validator count.
import { bytesEqual, compareBytes } from '../../lib/hex.js';
import { primaryOf, quorum } from './params.js';
import type {
  ConsensusMessage,
  NewView,
  PbftParams,
  PreparedCertificate,
  RejectReason,
  ViewChange,
} from './types.js';

type Check = RejectReason | undefined;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isUint(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array;
}

/** Shape of the fields every message has; the author must be a known validator. */
function checkEnvelope(m: Record<string, unknown>, p: PbftParams): Check {
  if (!isUint(m['height']) || m['height'] < 1 || !isBytes(m['signature'])) return 'malformed';
  if (!isUint(m['from'])) return 'malformed';
  if (m['from'] >= p.n) return 'unknownValidator';
  return undefined;
}

function checkHash(x: unknown, p: PbftParams): x is Uint8Array {
  return isBytes(x) && x.length === p.hashBytes;
}

function checkPrePrepareShape(m: Record<string, unknown>, p: PbftParams): Check {
  const env = checkEnvelope(m, p);
  if (env) return env;
  if (!isUint(m['view']) || !checkHash(m['blockHash'], p) || !isBytes(m['payload'])) return 'malformed';
  if (m['payload'].length > p.maxPayloadBytes) return 'payloadTooLarge';
  return undefined;
}

function checkVoteShape(m: Record<string, unknown>, p: PbftParams): Check {
  const env = checkEnvelope(m, p);
  if (env) return env;
  if (!isUint(m['view']) || !checkHash(m['blockHash'], p)) return 'malformed';
  return undefined;
}

function checkViewChangeShape(m: Record<string, unknown>, p: PbftParams): Check {
  const env = checkEnvelope(m, p);
  if (env) return env;
  if (!isUint(m['newView']) || m['newView'] < 1) return 'malformed';
  const cert = m['prepared'];
  if (cert === undefined || cert === null) return undefined;
  if (!isRecord(cert)) return 'malformed';
  return checkCertificate(cert, m['height'] as number, m['newView'], p);
}

/**
 * A prepared certificate carried by a ViewChange for (height, newView): a PrePrepare from the
 * primary of cert.view < newView and quorum()-1 distinct backups' Prepares for the same block.
 */
function checkCertificate(c: Record<string, unknown>, height: number, newView: number, p: PbftParams): Check {
  const view = c['view'];
  const hash = c['blockHash'];
  if (!isUint(view) || view >= newView || !checkHash(hash, p)) return 'badCertificate';
  const pp = c['prePrepare'];
  if (!isRecord(pp) || pp['type'] !== 'PrePrepare') return 'badCertificate';
  const ppCheck = checkPrePrepareShape(pp, p);
  if (ppCheck) return ppCheck === 'payloadTooLarge' ? ppCheck : 'badCertificate';
  const primary = primaryOf(height, view, p.n);
  if (pp['height'] !== height || pp['view'] !== view || pp['from'] !== primary || !bytesEqual(pp['blockHash'] as Uint8Array, hash)) {
    return 'badCertificate';
  }
  const prepares = c['prepares'];
  if (!Array.isArray(prepares) || prepares.length < quorum(p.n) - 1 || prepares.length > p.n) return 'badCertificate';
  const seen = new Set<number>();
  for (const pr of prepares as unknown[]) {
    if (!isRecord(pr) || pr['type'] !== 'Prepare' || checkVoteShape(pr, p)) return 'badCertificate';
    const from = pr['from'] as number;
    if (pr['height'] !== height || pr['view'] !== view || from === primary || seen.has(from)) return 'badCertificate';
    if (!bytesEqual(pr['blockHash'] as Uint8Array, hash)) return 'badCertificate';
    seen.add(from);
  }
  return undefined;
}

function checkNewViewShape(m: Record<string, unknown>, p: PbftParams): Check {
  const env = checkEnvelope(m, p);
  if (env) return env;
  if (!isUint(m['view']) || m['view'] < 1) return 'malformed';
  const vcs = m['viewChanges'];
  const pp = m['prePrepare'];
  if (!Array.isArray(vcs) || vcs.length > p.n || !isRecord(pp) || pp['type'] !== 'PrePrepare') return 'malformed';
  const ppCheck = checkPrePrepareShape(pp, p);
  if (ppCheck) return ppCheck;
  for (const vc of vcs as unknown[]) {
    if (!isRecord(vc) || vc['type'] !== 'ViewChange') return 'malformed';
    const r = checkViewChangeShape(vc, p);
    if (r) return r;
  }
  return undefined;
}

/**
 * Shape check of any input claiming to be a consensus message: field types, sizes, a known
 * author, and valid nested certificates. Returns the rejection reason, or undefined if well-formed.
 */
export function checkMessageShape(x: unknown, p: PbftParams): Check {
  if (!isRecord(x)) return 'malformed';
  switch (x['type']) {
    case 'PrePrepare':
      return checkPrePrepareShape(x, p);
    case 'Prepare':
    case 'Commit':
      return checkVoteShape(x, p);
    case 'ViewChange':
      return checkViewChangeShape(x, p);
    case 'NewView':
      return checkNewViewShape(x, p);
    default:
      return 'malformed';
  }
}

/** The prepared certificates a message carries: a ViewChange's, or those of a NewView's ViewChanges. */
export function certificatesOf(m: ConsensusMessage): PreparedCertificate[] {
  if (m.type === 'ViewChange') return m.prepared ? [m.prepared] : [];
  if (m.type === 'NewView') return m.viewChanges.flatMap((vc) => (vc.prepared ? [vc.prepared] : []));
  return [];
}

/** The highest prepared certificate among ViewChanges (ties, impossible with ≤ f faults, broken by hash). */
export function highestCertificate(vcs: readonly ViewChange[]): PreparedCertificate | undefined {
  let best: PreparedCertificate | undefined;
  for (const vc of vcs) {
    const c = vc.prepared;
    if (!c) continue;
    if (!best || c.view > best.view || (c.view === best.view && compareBytes(c.blockHash, best.blockHash) > 0)) best = c;
  }
  return best;
}

/**
 * The rules of a (shape-checked) NewView: sent by the primary of (height, view), quorum() distinct
 * ViewChanges for exactly (height, view), a PrePrepare by the same primary for (height, view), and
 * the chosen block is that of the highest prepared certificate when there is one.
 */
export function checkNewViewRules(nv: NewView, p: PbftParams): Check {
  if (nv.from !== primaryOf(nv.height, nv.view, p.n)) return 'notPrimary';
  const pp = nv.prePrepare;
  if (pp.from !== nv.from || pp.height !== nv.height || pp.view !== nv.view) return 'badNewView';
  if (nv.viewChanges.length < quorum(p.n)) return 'badNewView';
  const seen = new Set<number>();
  for (const vc of nv.viewChanges) {
    if (vc.height !== nv.height || vc.newView !== nv.view || seen.has(vc.from)) return 'badNewView';
    seen.add(vc.from);
  }
  const best = highestCertificate(nv.viewChanges);
  if (best && (!bytesEqual(best.blockHash, pp.blockHash) || !bytesEqual(best.prePrepare.payload, pp.payload))) {
    return 'newViewWrongBlock';
  }
  return undefined;
}

/** The view a message belongs to (a ViewChange belongs to the view it asks for). */
export function viewOf(m: ConsensusMessage): number {
  return m.type === 'ViewChange' ? m.newView : m.view;
}

/** What an author commits to by a message: two messages with one key and different digests conflict. */
export function digestOf(m: ConsensusMessage, hex: (b: Uint8Array) => string): string {
  switch (m.type) {
    case 'PrePrepare':
    case 'Prepare':
    case 'Commit':
      return hex(m.blockHash);
    case 'ViewChange':
      return m.prepared ? `${m.prepared.view}:${hex(m.prepared.blockHash)}` : 'none';
    case 'NewView':
      return hex(m.prePrepare.blockHash);
  }
}
