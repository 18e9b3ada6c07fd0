// The narrow interface the validators module needs from the identity module (the CA set);
// protocols/registry.ts wires identity's caGovernance into it. Modules never import each other.
import type { ReaderAccess, StoreAccess } from '../module.js';

export interface ValidatorsIdentityDeps {
  /** Whether `ca` (an offline address) is a registered CA. */
  isCa(access: ReaderAccess, ca: Uint8Array): boolean;
  /** Adds a CA as of `height`; ProtocolError if it is an online key or already a CA. */
  addCa(access: StoreAccess, ca: Uint8Array, height: number): void;
  /** Removes a CA; ProtocolError if it is not one. */
  removeCa(access: StoreAccess, ca: Uint8Array): void;
  /** Why `ca` cannot become a CA (an online key), or undefined. */
  caRefusal(access: ReaderAccess, ca: Uint8Array): string | undefined;
}

export interface ValidatorsDeps {
  /** Absent when the chain runs without the identity module: CA proposals are then refused. */
  identity?: ValidatorsIdentityDeps;
}
