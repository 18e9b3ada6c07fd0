// Stand-in for the driver's signing and verification: an HMAC per validator over the fields a
// real driver signs. Only the holder of validator i's key can produce its signatures, so a
// Byzantine node can equivocate with its own key but cannot forge another validator's vote.
import { createHmac } from 'node:crypto';
import type { ConsensusMessage, NewView, PreparedCertificate, PrePrepare, ViewChange } from '../../consensus/core/index.js';
import { toHex } from '../../lib/hex.js';

const KEYS = new Map<number, Buffer>();

function keyOf(index: number): Buffer {
  let k = KEYS.get(index);
  if (!k) {
    k = Buffer.from(`sim-validator-key-${index}`);
    KEYS.set(index, k);
  }
  return k;
}

/** What a signature covers: type, author, height, view and the block (or, for a NewView, its contents). */
export function signingString(m: ConsensusMessage): string {
  switch (m.type) {
    case 'PrePrepare':
    case 'Prepare':
    case 'Commit':
      return `${m.type}|${m.from}|${m.height}|${m.view}|${toHex(m.blockHash)}`;
    case 'ViewChange':
      return `${m.type}|${m.from}|${m.height}|${m.newView}|${m.prepared ? `${m.prepared.view}|${toHex(m.prepared.blockHash)}` : '-'}`;
    case 'NewView':
      return `${m.type}|${m.from}|${m.height}|${m.view}|${toHex(m.prePrepare.blockHash)}|${m.viewChanges.map((v) => toHex(v.signature)).join(',')}`;
  }
}

function mac(index: number, m: ConsensusMessage): Uint8Array {
  return new Uint8Array(createHmac('sha256', keyOf(index)).update(signingString(m)).digest());
}

/** Signs a message authored by `signer` (the nested PrePrepare of a NewView first). */
export function sign<M extends ConsensusMessage>(m: M, signer = m.from): M {
  if (m.type === 'NewView') {
    const nv = m as NewView;
    const pp: PrePrepare = { ...nv.prePrepare, signature: mac(signer, nv.prePrepare) };
    const inner: NewView = { ...nv, prePrepare: pp };
    return { ...inner, signature: mac(signer, inner) } as M;
  }
  return { ...m, signature: mac(signer, m) };
}

const verified = new WeakSet<object>();

function sigOk(m: ConsensusMessage): boolean {
  return Buffer.compare(Buffer.from(m.signature), Buffer.from(mac(m.from, m))) === 0;
}

function certOk(c: PreparedCertificate | undefined): boolean {
  if (!c) return true;
  return sigOk(c.prePrepare) && c.prepares.every(sigOk);
}

function vcOk(vc: ViewChange): boolean {
  return sigOk(vc) && certOk(vc.prepared);
}

/**
 * Verifies every signature in a message, nested ones included (the driver's duty). Throws on
 * input too broken to read: the caller treats that as "cannot verify".
 */
export function verifyDeep(m: ConsensusMessage): boolean {
  if (verified.has(m)) return true;
  let ok: boolean;
  switch (m.type) {
    case 'ViewChange':
      ok = vcOk(m);
      break;
    case 'NewView':
      ok = sigOk(m) && sigOk(m.prePrepare) && m.viewChanges.every(vcOk);
      break;
    default:
      ok = sigOk(m);
  }
  if (ok) verified.add(m);
  return ok;
}
