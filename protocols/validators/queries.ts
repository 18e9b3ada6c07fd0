// Queries of the validators module; all read point keys, so all are provable.
import { struct, bytes32 } from '../../lib/encoding.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import { validatorSetCodec, validatorSetHash } from '../../state/block.js';
import { defineQuery, type AnyQuery } from '../module.js';
import { ValidatorsReader } from './store.js';
import { CaAction } from './types.js';

export const queries: Record<string, AnyQuery> = {
  /** {} → {validators, hash, pending?}: the set in force for the next block. */
  current: defineQuery({
    args: struct<Record<string, never>>({}, []),
    provable: true,
    run(ctx) {
      const r = new ValidatorsReader(ctx.state);
      const set = r.current() ?? [];
      const pending = r.pending();
      return {
        validators: validatorSetCodec.toJson(set),
        hash: toHex(validatorSetHash(set)),
        pending: pending ? { effectiveHeight: pending.effectiveHeight, validators: validatorSetCodec.toJson(pending.set) } : null,
      };
    },
  }),

  /**
   * {proposal} → the open proposal of either kind, or null (unknown, executed or lapsed):
   * {kind: 'validatorSet', validators, …} or {kind: 'addCa' | 'removeCa', ca, …}, with the approving
   * validators' indices in the current set.
   */
  proposal: defineQuery({
    args: struct<{ proposal: Uint8Array }>({ proposal: bytes32 }, ['proposal']),
    provable: true,
    run(ctx, { proposal }) {
      const r = new ValidatorsReader(ctx.state);
      const setHash = validatorSetHash(r.current() ?? []);
      const s = r.setProposal(proposal);
      if (s && bytesEqual(s.setHash, setHash)) return { kind: 'validatorSet', validators: validatorSetCodec.toJson(s.set), approvals: s.approvals, createdHeight: s.createdHeight };
      const c = r.caProposal(proposal);
      if (c && bytesEqual(c.setHash, setHash)) return { kind: c.action === CaAction.add ? 'addCa' : 'removeCa', ca: toHex(c.ca), approvals: c.approvals, createdHeight: c.createdHeight };
      return null;
    },
  }),
};
