// Records and messages of the validators module (validator-set and CA-set governance).
import type { Validator } from '../../state/block.js';

/** A proposed validator set and the current validators (by index in `setHash`'s set) that approved it. */
export interface SetProposal {
  set: Validator[];
  approvals: number[];
  createdHeight: number;
  /** Hash of the validator set the approvals index into; when the set changes the proposal lapses. */
  setHash: Uint8Array;
}

/** CA-set actions (SPEC §5.1: "the CA set is in genesis and can be changed by 2f+1 validator approval"). */
export const CaAction = { add: 1, remove: 2 } as const;
export type CaAction = (typeof CaAction)[keyof typeof CaAction];

export interface CaChange {
  action: CaAction;
  /** The CA's offline address. */
  ca: Uint8Array;
}

export interface CaProposal extends CaChange {
  approvals: number[];
  createdHeight: number;
  setHash: Uint8Array;
}

/** An approved validator set waiting for its first height. */
export interface Pending {
  effectiveHeight: number;
  set: Validator[];
}

export interface ValidatorsMsgs {
  propose: { validators: Validator[] };
  approve: { proposal: Uint8Array };
  proposeAddCa: { ca: Uint8Array };
  proposeRemoveCa: { ca: Uint8Array };
}
