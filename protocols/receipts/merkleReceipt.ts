// Merkle receipts for data at rest (paper §4.2.2 Fig. 6; SPEC §5.4). Off-chain: the state machine never
// imports this file. A batch of m rows is split into min(m, n) sub-tables, each hashed as one RFC 6962
// leaf over the canonical bytes of its rows (rows.ts), and the batch root is anchored on chain. A
// receipt lets anyone holding a sub-table's rows walk from its leaf to the anchored root.
//
//   leaf(y_i)  = SHA-256(0x00 ‖ row_a ‖ … ‖ row_b)     row = u32be length ‖ canonical msgpack tuple
//   node(l, r) = SHA-256(0x01 ‖ l ‖ r)
//   tree       = RFC 6962 / RFC 9162 (split at the largest power of two below the size, odd nodes
//                promoted, never duplicated), so a sub-table can neither pose as an inner node nor be
//                duplicated to give the same root (CVE-2012-2459).
// Proof steps are [{side, hash}], bottom-up; their sides follow from (leaf index, tree size) alone and
// the verifier recomputes them, so a receipt cannot move a leaf to another position.
import { createHash } from 'node:crypto';
import { bytes32, mapCodec, str, list, type Codec } from '../../lib/encoding.js';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { bytesEqual, plainView } from '../../lib/hex.js';
import { EMPTY_ROOT, nodeHash, proofSides, verifyInclusionOfLeafHash } from '../../crypto/merkle.js';
import { encodeRow, type Row } from './rows.js';
import { address, jsonU53, record } from './signatureChainCodec.js';
import { tableNameCodec } from './codec.js';
import { MAX_SUBTABLES } from './types.js';

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;
export const RECEIPT_TYPE = 'iotchain-receipt/v1';

// ---------------------------------------------------------------------------------------------
// Splitting a batch

/**
 * Rows per sub-table for a batch of m rows and n requested sub-tables. With k = min(m, n) sub-tables,
 * the first m mod k hold ⌈m/k⌉ rows and the rest ⌊m/k⌋. For n ≤ m that is the paper's rule; for
 * n > m every row is its own sub-table (k = m): no empty sub-table is ever hashed, because an empty
 * leaf would cover no rows and its receipt would prove nothing.
 */
export function subTableSizes(m: number, n: number): number[] {
  if (!Number.isSafeInteger(m) || m < 1) throw new RangeError(`m must be a positive integer, got ${m}`);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SUBTABLES) throw new RangeError(`n must be in 1..${MAX_SUBTABLES}, got ${n}`);
  const k = Math.min(m, n);
  const q = Math.floor(m / k);
  const r = m % k;
  return Array.from({ length: k }, (_, i) => q + (i < r ? 1 : 0));
}

/** The number of sub-tables (Merkle leaves) of a batch: min(m, n). */
export function treeSizeOf(m: number, n: number): number {
  return Math.min(m, n);
}

export interface SubTable {
  index: number;
  /** Id range the sub-table covers: ranges tile the batch range [batch first id, last row's id]. */
  firstId: number;
  lastId: number;
  rows: Row[];
}

/**
 * Splits a batch (m rows in id order, after the previous batch which ended at firstId - 1) into its
 * sub-tables. Sub-table i covers ids from just after sub-table i-1 up to its last row's id, so every
 * id of the batch range belongs to exactly one sub-table even when ids have gaps.
 */
export function splitBatch(rows: readonly Row[], n: number, firstId: number): SubTable[] {
  const sizes = subTableSizes(rows.length, n);
  const out: SubTable[] = [];
  let at = 0;
  let from = firstId;
  for (const [index, size] of sizes.entries()) {
    const part = rows.slice(at, at + size);
    const lastId = part[part.length - 1]!.id;
    if (part[0]!.id < from) throw new RangeError(`row ${part[0]!.id} is below the batch start ${from} (rows must be in id order)`);
    out.push({ index, firstId: from, lastId, rows: part });
    from = lastId + 1;
    at += size;
  }
  return out;
}

/** leaf(y) = SHA-256(0x00 ‖ encodeRows(rows)), hashed incrementally. */
export function subTableLeaf(rows: readonly Row[]): Uint8Array {
  return leafOfRowBytes(rows.map(encodeRow));
}

/** The same over already-encoded rows (each with its length prefix). */
export function leafOfRowBytes(rowBytes: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  h.update(Uint8Array.of(LEAF_PREFIX));
  for (const b of rowBytes) h.update(b);
  return plainView(h.digest());
}

// ---------------------------------------------------------------------------------------------
// Tree and proofs over leaf hashes

/**
 * The RFC 6962 tree as levels, bottom-up: a lone last node moves up unchanged. This builds the same
 * root as the recursive definition (crypto/merkle.ts) in O(n), and gives every audit path in O(log n).
 */
export class MerkleLevels {
  readonly levels: Uint8Array[][];

  constructor(leaves: readonly Uint8Array[]) {
    if (leaves.length === 0) throw new RangeError('a tree needs at least one leaf');
    const levels: Uint8Array[][] = [[...leaves]];
    while (levels[levels.length - 1]!.length > 1) {
      const cur = levels[levels.length - 1]!;
      const next: Uint8Array[] = [];
      for (let i = 0; i + 1 < cur.length; i += 2) next.push(nodeHash(cur[i]!, cur[i + 1]!));
      if (cur.length % 2 === 1) next.push(cur[cur.length - 1]!);
      levels.push(next);
    }
    this.levels = levels;
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  get root(): Uint8Array {
    return this.levels[this.levels.length - 1]![0]!;
  }

  /** Audit path of leaf `index` as [{side, hash}], bottom-up. */
  proof(index: number): ProofStep[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) throw new RangeError(`leaf index ${index} outside tree of ${this.size}`);
    const steps: ProofStep[] = [];
    let i = index;
    for (let l = 0; l < this.levels.length - 1; l++) {
      const level = this.levels[l]!;
      const sibling = i ^ 1;
      if (sibling < level.length) steps.push({ side: sibling < i ? 'left' : 'right', hash: level[sibling]! });
      i >>= 1;
    }
    return steps;
  }
}

export type Side = 'left' | 'right';
export interface ProofStep {
  side: Side;
  hash: Uint8Array;
}

export type ProofCheck = { ok: true } | { ok: false; reason: string };

/**
 * Verifies a leaf against a root with [{side, hash}] steps. The sides must be exactly those that
 * (index, size) imply (RFC 9162 §2.1.3.2), so the proof binds the leaf's position and the tree size.
 */
export function verifyProofSteps(root: Uint8Array, leaf: Uint8Array, index: number, size: number, steps: readonly ProofStep[]): ProofCheck {
  if (!Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(index) || index < 0 || index >= size) return { ok: false, reason: `leaf index ${index} outside a tree of ${size}` };
  const sides = proofSides(index, size);
  if (sides.length !== steps.length) return { ok: false, reason: `a proof for leaf ${index} of ${size} has ${sides.length} steps, this one has ${steps.length}` };
  for (const [i, s] of steps.entries()) {
    if (s.side !== sides[i]) return { ok: false, reason: `proof step ${i} is on the ${s.side}, but leaf ${index} of ${size} needs its sibling on the ${sides[i]}` };
  }
  if (!verifyInclusionOfLeafHash(root, leaf, index, size, steps.map((s) => s.hash))) return { ok: false, reason: 'the proof does not lead to the root' };
  return { ok: true };
}

/** Root over leaf hashes (at least one). */
export function rootOfLeaves(leaves: readonly Uint8Array[]): Uint8Array {
  return leaves.length === 0 ? EMPTY_ROOT : new MerkleLevels(leaves).root;
}

// ---------------------------------------------------------------------------------------------
// Receipt JSON (README.md "Receipts")

export interface ReceiptAnchor {
  chainId: string;
  txHash: Uint8Array;
  height: number;
  /** Block time (ms). */
  time: number;
  submitter: Uint8Array;
}

export interface Receipt {
  table: string;
  m: number;
  n: number;
  /** The batch's position among the submitter's batches of this table, and its id range. */
  batch: number;
  batchFirstId: number;
  batchLastId: number;
  /** This sub-table's id range and row count. */
  firstId: number;
  lastId: number;
  rows: number;
  leafIndex: number;
  treeSize: number;
  /** leaf(y_i) = SHA-256(0x00 ‖ rows). */
  targetHash: Uint8Array;
  merkleRoot: Uint8Array;
  proof: ProofStep[];
  anchor: ReceiptAnchor;
}

function literal(value: string): Codec<string> {
  const inner = str(256);
  const check = (v: unknown, path: string): string => {
    if (v !== value) throw new InvalidMessageError(ERR.ENCODING, `${path}: expected ${JSON.stringify(value)}`);
    return value;
  };
  return { toPlain: (v) => inner.toPlain(v), fromPlain: check, toJson: (v) => v, fromJson: check };
}

const sideCodec: Codec<Side> = mapCodec<string, Side>(
  str(5, /^(left|right)$/),
  (s) => s,
  (s) => s as Side,
);
const proofStepCodec = record<ProofStep>({ side: sideCodec, hash: bytes32 }, ['side', 'hash']);
const anchorCodec = record<ReceiptAnchor & { module: string; method: string }>(
  { chainId: str(63, /^[a-z0-9][a-z0-9-]{0,62}$/), module: literal('receipts'), method: literal('storeRootHash'), txHash: bytes32, height: jsonU53, time: jsonU53, submitter: address },
  ['chainId', 'module', 'method', 'txHash', 'height', 'time', 'submitter'],
);

type ReceiptFile = Receipt & { type: string; hash: string; tree: string; leafPrefix: string; nodePrefix: string; rowEncoding: string; anchor: ReceiptAnchor & { module: string; method: string } };

const FIXED = {
  type: RECEIPT_TYPE,
  hash: 'sha-256',
  tree: 'rfc6962',
  leafPrefix: '0x00',
  nodePrefix: '0x01',
  rowEncoding: 'iotchain-row/v1: u32be length ‖ msgpack [1, id, table, groupId|nil, kind, envelope]',
} as const;

const receiptFileCodec = record<ReceiptFile>(
  {
    type: literal(FIXED.type),
    hash: literal(FIXED.hash),
    tree: literal(FIXED.tree),
    leafPrefix: literal(FIXED.leafPrefix),
    nodePrefix: literal(FIXED.nodePrefix),
    rowEncoding: literal(FIXED.rowEncoding),
    table: tableNameCodec,
    m: jsonU53,
    n: jsonU53,
    batch: jsonU53,
    batchFirstId: jsonU53,
    batchLastId: jsonU53,
    firstId: jsonU53,
    lastId: jsonU53,
    rows: jsonU53,
    leafIndex: jsonU53,
    treeSize: jsonU53,
    targetHash: bytes32,
    merkleRoot: bytes32,
    proof: list(proofStepCodec, 64),
    anchor: anchorCodec,
  },
  ['type', 'hash', 'tree', 'leafPrefix', 'nodePrefix', 'rowEncoding', 'table', 'm', 'n', 'batch', 'batchFirstId', 'batchLastId', 'firstId', 'lastId', 'rows', 'leafIndex', 'treeSize', 'targetHash', 'merkleRoot', 'proof', 'anchor'],
);

/** The receipt's JSON form (Chainpoint-like; README.md "Receipts"). */
export function receiptToJson(r: Receipt): unknown {
  const file: ReceiptFile = { ...FIXED, ...r, anchor: { ...r.anchor, module: 'receipts', method: 'storeRootHash' } };
  receiptFileCodec.toPlain(file);
  return receiptFileCodec.toJson(file);
}

/** Parses a receipt strictly (exact fields, fixed prefixes); throws InvalidMessageError naming the field. */
export function receiptFromJson(json: unknown, path = 'receipt'): Receipt {
  const f = receiptFileCodec.fromJson(json, path);
  return {
    table: f.table,
    m: f.m,
    n: f.n,
    batch: f.batch,
    batchFirstId: f.batchFirstId,
    batchLastId: f.batchLastId,
    firstId: f.firstId,
    lastId: f.lastId,
    rows: f.rows,
    leafIndex: f.leafIndex,
    treeSize: f.treeSize,
    targetHash: f.targetHash,
    merkleRoot: f.merkleRoot,
    proof: f.proof,
    anchor: { chainId: f.anchor.chainId, txHash: f.anchor.txHash, height: f.anchor.height, time: f.anchor.time, submitter: f.anchor.submitter },
  };
}

/**
 * Checks a receipt on its own (no rows, no chain): the fields agree with each other (tree size =
 * min(m, n), the sub-table's size follows from (m, n, leaf index), its range lies in the batch's) and
 * the proof leads from targetHash to merkleRoot with the sides (leaf index, tree size) imply.
 */
export function checkReceipt(r: Receipt): ProofCheck {
  if (r.m < 1 || r.n < 1 || r.n > MAX_SUBTABLES) return { ok: false, reason: `m = ${r.m}, n = ${r.n} out of range` };
  if (r.treeSize !== treeSizeOf(r.m, r.n)) return { ok: false, reason: `tree size ${r.treeSize} is not min(m, n) = ${treeSizeOf(r.m, r.n)}` };
  if (r.leafIndex >= r.treeSize) return { ok: false, reason: `leaf index ${r.leafIndex} outside a tree of ${r.treeSize}` };
  const size = subTableSizes(r.m, r.n)[r.leafIndex]!;
  if (r.rows !== size) return { ok: false, reason: `sub-table ${r.leafIndex} of m = ${r.m}, n = ${r.n} holds ${size} rows, the receipt says ${r.rows}` };
  if (!(r.batchFirstId <= r.firstId && r.firstId <= r.lastId && r.lastId <= r.batchLastId)) {
    return { ok: false, reason: `range ${r.firstId}..${r.lastId} is not inside the batch ${r.batchFirstId}..${r.batchLastId}` };
  }
  if (r.leafIndex === 0 && r.firstId !== r.batchFirstId) return { ok: false, reason: 'the first sub-table must start at the batch start' };
  if (r.leafIndex === r.treeSize - 1 && r.lastId !== r.batchLastId) return { ok: false, reason: 'the last sub-table must end at the batch end' };
  return verifyProofSteps(r.merkleRoot, r.targetHash, r.leafIndex, r.treeSize, r.proof);
}

/** Whether the receipt's leaf is the hash of these rows. */
export function receiptMatchesRows(r: Receipt, rows: readonly Row[]): boolean {
  return bytesEqual(subTableLeaf(rows), r.targetHash);
}
