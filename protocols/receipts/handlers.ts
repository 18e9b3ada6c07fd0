import { ProtocolError } from '../../lib/errors.js';
import { toHex } from '../../lib/hex.js';
import type { Handler } from '../module.js';
import { RECEIPTS_ERR } from './errors.js';
import { ReceiptsStore } from './store.js';
import type { ReceiptsMsgs } from './types.js';

export const handlers: { [K in keyof ReceiptsMsgs]: Handler<ReceiptsMsgs[K]> } = {
  /**
   * Anchors a batch root under the sender's identity. The same root by another identity is a
   * separate anchor (a front-runner copying a root does not become its submitter). A submitter's
   * batches of one table tile the id space: each starts right after the previous one ended, so the
   * same rows can never be anchored twice and a deleted batch leaves a visible gap.
   */
  storeRootHash(ctx, { hash, meta }) {
    const s = new ReceiptsStore(ctx.state);
    const submitter = ctx.identity;
    if (s.anchor(submitter, hash)) {
      throw new ProtocolError(RECEIPTS_ERR.DUPLICATE_ANCHOR, `root ${toHex(hash)} is already anchored by ${toHex(submitter)}`);
    }
    const head = s.head(submitter, meta.table);
    if (head && meta.firstId !== head.lastId + 1) {
      throw new ProtocolError(
        RECEIPTS_ERR.RANGE_NOT_CONTIGUOUS,
        `table ${meta.table}: batch ${head.count} must start at id ${head.lastId + 1} (the previous batch ended at ${head.lastId}), got ${meta.firstId}`,
      );
    }
    const batch = head ? head.count : 0;
    s.putAnchor(hash, { submitter, signer: ctx.sender, height: ctx.block.height, time: ctx.block.time, txHash: ctx.txId, batch, meta });
    ctx.emit('anchor', { submitter, root: hash, table: meta.table, batch, firstId: meta.firstId, lastId: meta.lastId, m: meta.m, n: meta.n });
  },
};
