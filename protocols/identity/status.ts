// Derived states of names and keys (pure, shared by handlers, queries and the keeper).
import { bytesEqual, toHex } from '../../lib/hex.js';
import type { DomainRecord, IdentityRecord, KeyHistoryEntry } from './types.js';

/**
 * - unregistered: no record;
 * - active: resolves (not expired, owner open);
 * - owner-closed: not expired but the owner closed its key (unusable; the backup may take it over);
 * - expired: past `expires`, inside the grace period (unusable; the owner may still renew);
 * - free: past `expires + grace`: anyone may register it again (commit–reveal).
 */
export type NameState = 'unregistered' | 'active' | 'owner-closed' | 'expired' | 'free';

export function nameState(d: DomainRecord | undefined, ownerClosed: boolean, now: number, graceMs: number): NameState {
  if (!d) return 'unregistered';
  if (now >= d.expires + graceMs) return 'free';
  if (now >= d.expires) return 'expired';
  return ownerClosed ? 'owner-closed' : 'active';
}

/** The state of an online address with respect to its identity. */
export type KeyState = 'unregistered' | 'active' | 'revoked' | 'closed';

export function keyState(online: Uint8Array, owner: Uint8Array | undefined, rec: IdentityRecord | undefined): KeyState {
  if (!owner || !rec) return 'unregistered';
  if (rec.closedAt !== undefined) return 'closed';
  return bytesEqual(rec.online, online) ? 'active' : 'revoked';
}

/** A history entry as it may arrive from a query answer (hex strings) or from state (bytes). */
export interface KeyPeriod {
  online: Uint8Array | string;
  from: number;
  to: number | undefined | null;
}

const hexOf = (a: Uint8Array | string) => (typeof a === 'string' ? a.toLowerCase() : toHex(a));

/**
 * Was `online` an identity's valid online key for data anchored at `height`? True iff some history
 * entry for that key has from ≤ height < to (no `to`: still current). This is the auditor's rule
 * "a signature by an online key revoked at height H counts only for data anchored before H".
 */
export function keyValidAt(history: readonly KeyPeriod[], online: Uint8Array | string, height: number): boolean {
  const want = hexOf(online);
  return history.some((e) => hexOf(e.online) === want && e.from <= height && (e.to === undefined || e.to === null || height < e.to));
}

/** The history entry for `online` (an online key is registered at most once, so there is at most one). */
export function historyEntryOf(history: readonly KeyHistoryEntry[], online: Uint8Array): KeyHistoryEntry | undefined {
  return history.find((e) => bytesEqual(e.online, online));
}
