/** Stable error codes of the receipts module (never renamed: clients branch on them). */
export const RECEIPTS_ERR = {
  /** storeRootHash: this submitter already anchored this root. */
  DUPLICATE_ANCHOR: 'RECEIPTS_DUPLICATE_ANCHOR',
  /** storeRootHash: the batch does not start right after the submitter's last batch of this table. */
  RANGE_NOT_CONTIGUOUS: 'RECEIPTS_RANGE_NOT_CONTIGUOUS',
  /** storeRootHash args: m, n or the row range are out of bounds (stateless, InvalidMessageError). */
  BAD_META: 'RECEIPTS_BAD_META',
} as const;
