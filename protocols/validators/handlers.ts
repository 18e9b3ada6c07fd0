// Validator-set and CA-set governance (SPEC §2, §5.1): a current validator proposes a change, the
// proposal counts as its first approval, and when 2f+1 current validators have approved it is
// applied — a new validator set from two heights after the approving block, a CA-set change at once.
// Approvals are indices into the set in force when the proposal was made (its hash is stored): once
// the validator set changes, open proposals lapse and must be proposed again.
import { ProtocolError } from '../../lib/errors.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import { quorum, validatorAddress, validatorSetHash, type Validator } from '../../state/block.js';
import { readerAccess, type Handler, type TxContext } from '../module.js';
import { caProposalId, proposalId } from './codec.js';
import type { ValidatorsDeps, ValidatorsIdentityDeps } from './deps.js';
import { VALIDATORS_ERR } from './errors.js';
import { ValidatorsStore } from './store.js';
import { CaAction, type CaChange, type CaProposal, type SetProposal, type ValidatorsMsgs } from './types.js';

type Handlers = { [K in keyof ValidatorsMsgs]: Handler<ValidatorsMsgs[K]> };

/** Blocks between the approving block and the first block signed by the new set. */
export const ACTIVATION_DELAY = 2;

function fail(code: string, message: string): never {
  throw new ProtocolError(code, message);
}

interface Voter {
  s: ValidatorsStore;
  current: Validator[];
  setHash: Uint8Array;
  by: number;
}

/** The sender's index in the current set; only a validator signing with its consensus key may act. */
function voter(ctx: TxContext): Voter {
  const s = new ValidatorsStore(ctx.state);
  const current = s.current()!;
  const by = current.findIndex((v) => bytesEqual(validatorAddress(v), ctx.sender));
  if (by < 0) fail(VALIDATORS_ERR.NOT_VALIDATOR, 'only a current validator (signing with its consensus key) may propose or approve a change');
  return { s, current, setHash: validatorSetHash(current), by };
}

/** Adds `by`'s approval; true when the proposal now has a quorum of the current set. */
function addApproval(ctx: TxContext, v: Voter, id: Uint8Array, p: { approvals: number[] }): { approvals: number[]; done: boolean } {
  if (p.approvals.includes(v.by)) fail(VALIDATORS_ERR.ALREADY_APPROVED, `validator ${v.by} already approved proposal ${toHex(id)}`);
  const approvals = [...p.approvals, v.by].sort((a, b) => a - b);
  const need = quorum(v.current.length);
  const done = approvals.length >= need;
  if (!done) ctx.emit('approval', { proposal: id, by: v.by, approvals: approvals.length, needed: need });
  return { approvals, done };
}

function approveSet(ctx: TxContext, v: Voter, id: Uint8Array, p: SetProposal): void {
  const { approvals, done } = addApproval(ctx, v, id, p);
  if (!done) return v.s.setSetProposal(id, { ...p, approvals });
  if (v.s.pending()) fail(VALIDATORS_ERR.PENDING, 'another validator-set change is pending');
  const effectiveHeight = ctx.block.height + ACTIVATION_DELAY;
  v.s.setPending({ effectiveHeight, set: p.set });
  v.s.setSetProposal(id, undefined);
  ctx.emit('approved', { proposal: id, effectiveHeight, approvals: approvals.length });
}

function identityDeps(deps: ValidatorsDeps): ValidatorsIdentityDeps {
  if (!deps.identity) fail(VALIDATORS_ERR.NO_IDENTITY_MODULE, 'this chain runs without the identity module: it has no CA set');
  return deps.identity;
}

/** Stateful checks of a CA change against the CA set as it is now. */
function checkCaChange(ctx: TxContext, identity: ValidatorsIdentityDeps, c: CaChange): void {
  const reader = readerAccess(ctx.access);
  const isCa = identity.isCa(reader, c.ca);
  if (c.action === CaAction.add) {
    if (isCa) fail(VALIDATORS_ERR.CA_EXISTS, `${toHex(c.ca)} is already a CA`);
    const why = identity.caRefusal(reader, c.ca);
    if (why) fail(VALIDATORS_ERR.BAD_CA, why);
  } else if (!isCa) fail(VALIDATORS_ERR.NOT_CA, `${toHex(c.ca)} is not a CA`);
}

function approveCa(ctx: TxContext, v: Voter, identity: ValidatorsIdentityDeps, id: Uint8Array, p: CaProposal): void {
  const { approvals, done } = addApproval(ctx, v, id, p);
  if (!done) return v.s.setCaProposal(id, { ...p, approvals });
  checkCaChange(ctx, identity, p);
  if (p.action === CaAction.add) identity.addCa(ctx.access, p.ca, ctx.block.height);
  else identity.removeCa(ctx.access, p.ca);
  v.s.setCaProposal(id, undefined);
  ctx.emit(p.action === CaAction.add ? 'caAdded' : 'caRemoved', { proposal: id, ca: p.ca, approvals: approvals.length });
}

function proposeCa(ctx: TxContext, deps: ValidatorsDeps, change: CaChange): void {
  const v = voter(ctx);
  const identity = identityDeps(deps);
  checkCaChange(ctx, identity, change);
  const id = caProposalId(change);
  let p = v.s.caProposal(id);
  if (!p || !bytesEqual(p.setHash, v.setHash)) {
    p = { ...change, approvals: [], createdHeight: ctx.block.height, setHash: v.setHash };
    ctx.emit('proposed', { proposal: id, by: v.by, kind: change.action === CaAction.add ? 'addCa' : 'removeCa', ca: change.ca });
  }
  approveCa(ctx, v, identity, id, p);
}

export function makeHandlers(deps: ValidatorsDeps): Handlers {
  return {
    /** A new validator set; proposing counts as approving. */
    propose(ctx, { validators }) {
      const v = voter(ctx);
      if (bytesEqual(validatorSetHash(validators), v.setHash)) fail(VALIDATORS_ERR.SAME_SET, 'the proposed set is the current set');
      const id = proposalId(validators);
      let p = v.s.setProposal(id);
      if (!p || !bytesEqual(p.setHash, v.setHash)) {
        p = { set: validators, approvals: [], createdHeight: ctx.block.height, setHash: v.setHash };
        ctx.emit('proposed', { proposal: id, by: v.by, kind: 'validatorSet', members: validators.length });
      }
      approveSet(ctx, v, id, p);
    },

    /** Approves an open proposal of either kind by its id. */
    approve(ctx, { proposal }) {
      const v = voter(ctx);
      const set = v.s.setProposal(proposal);
      if (set && bytesEqual(set.setHash, v.setHash)) return approveSet(ctx, v, proposal, set);
      const ca = v.s.caProposal(proposal);
      if (ca && bytesEqual(ca.setHash, v.setHash)) return approveCa(ctx, v, identityDeps(deps), proposal, ca);
      fail(VALIDATORS_ERR.UNKNOWN_PROPOSAL, `no open proposal ${toHex(proposal)}${set || ca ? ' (it lapsed when the validator set changed; propose it again)' : ''}`);
    },

    /** Adds a CA (an offline address) to the identity module's CA set. */
    proposeAddCa(ctx, { ca }) {
      proposeCa(ctx, deps, { action: CaAction.add, ca });
    },

    /** Removes a CA: the names it registered stay, certificates it issues no longer verify. */
    proposeRemoveCa(ctx, { ca }) {
      proposeCa(ctx, deps, { action: CaAction.remove, ca });
    },
  };
}
