// End of block: a pending validator set becomes current so that the block at its effective height
// names it; open proposals, whose approvals index into the old set, are deleted (they have lapsed
// anyway: see handlers.ts).
import type { BlockContext } from '../module.js';
import { validatorSetHash } from '../../state/block.js';
import { P_CA_PROPOSAL, P_SET_PROPOSAL } from './keys.js';
import { ValidatorsStore } from './store.js';

/** Lapsed proposals deleted per block; the rest go in later blocks (they are inert meanwhile). */
const CLEANUP_LIMIT = 1024;

export async function endBlock(ctx: BlockContext): Promise<void> {
  const s = new ValidatorsStore(ctx.state);
  const pending = s.pending();
  if (!pending || pending.effectiveHeight > ctx.block.height + 1) return;
  // from the next block on, the new set signs: switch now so the next header names it
  s.setCurrent(pending.set, pending.effectiveHeight);
  s.setPending(undefined);
  const stale: Uint8Array[] = [];
  for (const prefix of [P_SET_PROPOSAL, P_CA_PROPOSAL]) {
    for await (const [k] of ctx.state.entries(prefix, { limit: CLEANUP_LIMIT - stale.length })) stale.push(k);
  }
  for (const k of stale) ctx.state.delete(k);
  ctx.emit('changed', { effectiveHeight: pending.effectiveHeight, members: pending.set.length, hash: validatorSetHash(pending.set) });
}
