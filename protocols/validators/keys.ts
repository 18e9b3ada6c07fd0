// Key space of the validators module:
//   'c'                  → the current validator set
//   'n'                  → the pending change {effectiveHeight, set}
//   'p' ‖ id(32)         → an open validator-set proposal
//   'a' ‖ id(32)         → an open CA-set proposal
//   'h' ‖ height(8)      → the set in force from that height (history, for light clients and audits)
import { concatBytes, uintBE } from '../../lib/hex.js';

export const K_CURRENT = new Uint8Array([0x63]);
export const K_PENDING = new Uint8Array([0x6e]);
export const P_SET_PROPOSAL = new Uint8Array([0x70]);
export const P_CA_PROPOSAL = new Uint8Array([0x61]);
export const P_HISTORY = new Uint8Array([0x68]);

export const setProposalKey = (id: Uint8Array) => concatBytes(P_SET_PROPOSAL, id);
export const caProposalKey = (id: Uint8Array) => concatBytes(P_CA_PROPOSAL, id);
export const historyKey = (h: number) => concatBytes(P_HISTORY, uintBE(h, 8));
