// Receipts module (paper §4.2.2, SPEC §5.4): the on-chain half of data at rest. A service (or gateway)
// anchors the Merkle root of every batch of m rows of one of its tables; anyone can later check that a
// root is on chain, who anchored it, when, and which rows it covers.

/** Table names: ASCII letters, digits, `_`, `.`, `-`; 1 to 64 characters, not starting with `.` or `-`. */
export const TABLE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** Most sub-tables (Merkle leaves) in one batch: a proof then has at most 16 steps. */
export const MAX_SUBTABLES = 1 << 16;

/**
 * What a batch root covers: `m` rows of table `table` whose ids lie in [firstId, lastId] (ids may have
 * gaps: PostgreSQL sequences skip values), split into min(m, n) sub-tables.
 */
export interface AnchorMeta {
  table: string;
  m: number;
  n: number;
  firstId: number;
  lastId: number;
}

export interface StoreRootHashArgs {
  /** RFC 6962 Merkle root over the batch's sub-tables. */
  hash: Uint8Array;
  meta: AnchorMeta;
}

/** One anchor, keyed by (submitter, root). */
export interface AnchorRecord {
  /** The submitter's identity (its offline address once the identity module maps online keys). */
  submitter: Uint8Array;
  /** The address whose key signed the transaction (the online key). */
  signer: Uint8Array;
  height: number;
  /** Block time (ms). */
  time: number;
  txHash: Uint8Array;
  /** Position of this batch among the submitter's batches of this table (0, 1, 2, …). */
  batch: number;
  meta: AnchorMeta;
}

/** Per (submitter, table): how many batches, and where the last one ended. */
export interface TableHead {
  count: number;
  lastId: number;
  lastRoot: Uint8Array;
}

export interface ReceiptsMsgs {
  storeRootHash: StoreRootHashArgs;
}

/** Query answers (JSON). */
export type AnchorJson =
  | {
      found: true;
      hash: string;
      submitter: string;
      signer: string;
      height: number;
      time: number;
      txHash: string;
      batch: number;
      meta: AnchorMeta;
    }
  | { found: false; hash: string; submitter: string | null };

export interface TableHeadJson {
  submitter: string;
  table: string;
  count: number;
  lastId: number | null;
  lastRoot: string | null;
}
