// The identity module's API for the application and for other modules (through their deps.ts):
// - resolveSigner: maps a transaction's signing key to the offline identity for the method's role;
// - identityKeeper: read-only lookups (online → offline, current key, name → owner) for reputation
//   and later modules;
// - caGovernance: the CA set, changed only by the validators module after 2f+1 validators approve.
import { ProtocolError, ERR } from '../../lib/errors.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import type { KeyType } from '../../crypto/keys.js';
import { readerAccess, type ReaderAccess, type SignerRole, type StoreAccess } from '../module.js';
import { IdentityReader, IdentityStore } from './store.js';
import { IDENTITY_MODULE_ID } from './id.js';
import { IDENTITY_ERR } from './errors.js';
import { nameState, type NameState } from './status.js';

const reader = (a: ReaderAccess) => new IdentityReader(a.readerOf(IDENTITY_MODULE_ID));

function wrongSigner(message: string): never {
  throw new ProtocolError(ERR.WRONG_SIGNER, message);
}

/**
 * Signer resolution (SPEC §1 "Who is who"), called by protocols/execute.ts before every handler:
 * - 'offline': any address that is not a registered online key (current or revoked) signs as
 *   itself; identity = sender.
 * - 'online': the sender must be the current online key of a registered, open identity;
 *   identity = that offline address.
 * - 'any': the current online key of an open identity acts for that identity; any other address
 *   (offline addresses, revoked online keys, unregistered keys) acts as itself.
 * Anything else is a ProtocolError TX_WRONG_SIGNER_KEY naming what was expected.
 */
export function resolveSigner(access: StoreAccess, sender: Uint8Array, role: SignerRole): Uint8Array {
  const s = new IdentityReader(access.storeOf(IDENTITY_MODULE_ID));
  const owner = s.onlineOwner(sender);
  const rec = owner ? s.identity(owner) : undefined;
  const current = !!rec && rec.closedAt === undefined && bytesEqual(rec.online, sender);
  switch (role) {
    case 'offline':
      if (owner) {
        wrongSigner(
          `this method must be signed by an offline key; ${toHex(sender)} is ${current ? 'the online key' : 'a revoked online key'} of identity ${toHex(owner)}`,
        );
      }
      return sender;
    case 'online':
      if (!owner || !rec) wrongSigner(`this method must be signed by a registered online key; ${toHex(sender)} is not the online key of any identity`);
      if (rec.closedAt !== undefined) wrongSigner(`identity ${toHex(owner)} closed its key at height ${rec.closedAt}; its online keys are unusable`);
      if (!current) wrongSigner(`online key ${toHex(sender)} of identity ${toHex(owner)} was revoked; its current online key is ${toHex(rec.online)}`);
      return owner;
    case 'any':
      return current ? owner! : sender;
  }
}

export interface ActiveKey {
  online: Uint8Array;
  keyType: KeyType;
  pub: Uint8Array;
}

export interface DomainView {
  state: NameState;
  owner: Uint8Array | undefined;
  ip: string | undefined;
  expires: number | undefined;
}

/** Read-only lookups for other modules (declare the subset you need in your deps.ts). */
export const identityKeeper = {
  /** The offline identity an address stands for: the owner of an online key (current or revoked), else the address itself. */
  identityOf(access: ReaderAccess, addr: Uint8Array): Uint8Array {
    return reader(access).onlineOwner(addr) ?? addr;
  },
  /** The current online key of an open identity, or undefined (unregistered or closed). */
  activeKey(access: ReaderAccess, offline: Uint8Array): ActiveKey | undefined {
    const rec = reader(access).identity(offline);
    return rec && rec.closedAt === undefined ? { online: rec.online, keyType: rec.keyType, pub: rec.pub } : undefined;
  },
  /** Whether `offline` is a registered identity that has not closed. */
  isOpen(access: ReaderAccess, offline: Uint8Array): boolean {
    const rec = reader(access).identity(offline);
    return !!rec && rec.closedAt === undefined;
  },
  /** A name's state and owner at block time `now` (ms). */
  domain(access: ReaderAccess, name: string, now: number): DomainView {
    const r = reader(access);
    const d = r.domain(name);
    const ownerClosed = d ? r.identity(d.owner)?.closedAt !== undefined : false;
    const state = nameState(d, ownerClosed, now, r.params().nameGraceMs);
    return { state, owner: d?.owner, ip: d?.ip, expires: d?.expires };
  },
};

export type IdentityKeeper = typeof identityKeeper;

/**
 * The CA set. Genesis writes it; afterwards only the validators module (MODULE_IDS.validators)
 * changes it, after 2f+1 validators approve (SPEC §5.1 "CA set in genesis or by validator vote").
 * No transaction of this module changes the CA set.
 */
export const caGovernance = {
  isCa(access: ReaderAccess, ca: Uint8Array): boolean {
    return !!reader(access).ca(ca);
  },
  /** Why `ca` cannot be a CA, or undefined: a CA is named by an offline address, never an online key. */
  caRefusal(access: ReaderAccess, ca: Uint8Array): string | undefined {
    return reader(access).onlineOwner(ca) ? `${toHex(ca)} is an online key; a CA is named by its offline address` : undefined;
  },
  addCa(access: StoreAccess, ca: Uint8Array, height: number): void {
    const why = caGovernance.caRefusal(readerAccess(access), ca);
    if (why) throw new ProtocolError(IDENTITY_ERR.BAD_CA, why);
    const s = new IdentityStore(access.storeOf(IDENTITY_MODULE_ID));
    if (s.ca(ca)) throw new ProtocolError(IDENTITY_ERR.BAD_CA, `${toHex(ca)} is already a CA`);
    s.setCa(ca, { since: height });
  },
  removeCa(access: StoreAccess, ca: Uint8Array): void {
    const s = new IdentityStore(access.storeOf(IDENTITY_MODULE_ID));
    if (!s.ca(ca)) throw new ProtocolError(IDENTITY_ERR.BAD_CA, `${toHex(ca)} is not a CA`);
    s.setCa(ca, undefined);
  },
};
