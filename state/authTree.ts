// Authenticated state tree (SPEC §1 "State"): a bucketed Merkle tree in the style of Hyperledger
// Fabric's bucket tree, chosen by measurement (bench/stateTree.ts, BENCHMARKS.md, state/README.md).
//
// - A key goes to bucket `i` = the first `bucketBits` bits of SHA-256(key) (default 16: 65,536 buckets).
// - A bucket holds its entries (full key, H(value)) sorted by key; it is stored as one record under
//   PREFIX.TREE, whose bytes are exactly what the bucket hash covers.
// - A complete binary tree of depth `bucketBits` over the bucket hashes lives in memory in one flat
//   array (2^(bucketBits+1) × 32 bytes: 4 MiB at 16 bits); empty subtrees hash to precomputed values.
// - The root binds the depth: root = H(ROOT ‖ bucketBits ‖ top node).
//
// Hashing (SHA-256, one tag byte in front of everything hashed, so no kind can pose as another):
//   valueHash  = H(0x00 ‖ value)
//   bucketHash = H(0x02 ‖ entry_1 ‖ … ‖ entry_m), entry = keyLen (u16 BE) ‖ key ‖ valueHash,
//                entries strictly ascending by key (an empty bucket hashes to H(0x02))
//   node       = H(0x01 ‖ left ‖ right)
//   root       = H(0x03 ‖ bucketBits (u8) ‖ top)
//
// Staging is pure with respect to the committed version: it reads committed bucket records (sync
// `get`), writes nothing, and keeps the new bucket hashes and inner nodes in a per-level overlay
// (sorted node numbers + packed hashes) that `apply()` copies into the flat array once the ops are
// in the store.
import { sha256 as sha, sha256Into } from '../crypto/hash.js';
import { bytes, bytes32, list, struct, uint, type Codec } from '../lib/encoding.js';
import { InternalError, InvalidMessageError, ERR } from '../lib/errors.js';
import { bytesEqual, compareBytes } from '../lib/hex.js';
import { PREFIX } from './prefixes.js';
import { prefixRange, type BatchOp, type KvStore } from './kvStore.js';

export interface StateChange {
  key: Uint8Array;
  /** undefined = delete */
  value: Uint8Array | undefined;
}

export interface StagedTree {
  /** 32-byte root after the changes. */
  readonly root: Uint8Array;
  /** KvStore ops (under PREFIX.TREE) that persist this tree version; write them in the block's batch. */
  readonly ops: BatchOp[];
  /** Call after `ops` were written: makes this the committed version in memory. */
  apply(): void;
}

/** One bucket entry as carried in a proof. */
export interface ProofEntry {
  key: Uint8Array;
  valueHash: Uint8Array;
}

/**
 * Proof for one key against a root: every entry of the key's bucket (sorted by key) and the sibling
 * hashes from the bucket up to the top, bottom-up (exactly `bucketBits` of them). Inclusion: the key
 * is among the entries with H(0x00 ‖ value); non-inclusion: it is not. The bucket's full key list is
 * what makes non-inclusion sound: the verifier rebuilds the bucket hash from it.
 */
export interface StateProof {
  bucketBits: number;
  entries: ProofEntry[];
  siblings: Uint8Array[];
}

export const DEFAULT_BUCKET_BITS = 16;
export const MIN_BUCKET_BITS = 1;
/** 2^21 nodes × 32 bytes = 64 MiB of inner nodes at most. */
export const MAX_BUCKET_BITS = 20;
/** Longest key the tree accepts (the state keys are ~300 bytes at most; the record format allows 65,535). */
export const MAX_KEY_BYTES = 1024;
/** Most entries a proof may carry (decoder bound; a bucket holds ~ keys / 2^bucketBits entries). */
export const MAX_PROOF_ENTRIES = 1 << 20;

const TAG_VALUE = 0x00;
const TAG_NODE = 0x01;
const TAG_BUCKET = 0x02;
const TAG_ROOT = 0x03;

const FORMAT_VERSION = 1;
/** PREFIX.TREE ‖ 0x00 → [format (u8), bucketBits (u8), root (32)] */
const META_KEY = new Uint8Array([PREFIX.TREE, 0x00]);
/** PREFIX.TREE ‖ 0x01 ‖ bucket index (u32 BE) → bucket record (entries, as hashed) */
const BUCKET_PREFIX = new Uint8Array([PREFIX.TREE, 0x01]);
const ENTRY_OVERHEAD = 2 + 32;


function copy32(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
  for (let i = 0; i < 32; i++) dst[dstOff + i] = src[srcOff + i]!;
}

// Scratch and short-lived buffers come from Buffer.allocUnsafe (pooled, not zero-filled: every
// byte is written before use); `new Uint8Array` per small buffer costs more than the hash.
/** H(0x00 ‖ value): what a bucket stores for a value. */
export function valueHash(value: Uint8Array): Uint8Array {
  const buf = Buffer.allocUnsafe(1 + value.length);
  buf[0] = TAG_VALUE;
  buf.set(value, 1);
  return sha(buf);
}

function bucketHash(record: Uint8Array): Uint8Array {
  const buf = Buffer.allocUnsafe(1 + record.length);
  buf[0] = TAG_BUCKET;
  buf.set(record, 1);
  return sha(buf);
}

const nodeScratch = new Uint8Array(65);
function innerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeScratch[0] = TAG_NODE;
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 33);
  return sha(nodeScratch);
}

function rootHash(bucketBits: number, top: Uint8Array): Uint8Array {
  const buf = new Uint8Array(34);
  buf[0] = TAG_ROOT;
  buf[1] = bucketBits;
  buf.set(top, 2);
  return sha(buf);
}

/** Bucket of a key: the first `bucketBits` bits of SHA-256(key), big-endian. */
export function bucketOf(key: Uint8Array, bucketBits: number): number {
  const d = sha(key);
  return (d[0]! * 0x1000000 + ((d[1]! << 16) | (d[2]! << 8) | d[3]!)) >>> (32 - bucketBits);
}

/** emptyHashes[l] = hash of an empty subtree of height l (l = 0: an empty bucket). */
const EMPTY_HASHES: Uint8Array[] = [bucketHash(new Uint8Array(0))];
for (let l = 1; l <= MAX_BUCKET_BITS; l++) {
  const below = EMPTY_HASHES[l - 1]!;
  EMPTY_HASHES.push(innerHash(below, below));
}
function emptyHash(level: number): Uint8Array {
  return EMPTY_HASHES[level]!;
}

function checkBucketBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < MIN_BUCKET_BITS || bits > MAX_BUCKET_BITS) {
    throw new InternalError(ERR.CONFIG, `bucketBits must be an integer in ${MIN_BUCKET_BITS}..${MAX_BUCKET_BITS}, got ${bits}`);
  }
}

/** Root of an empty tree with `bucketBits` levels. */
export function emptyRoot(bucketBits = DEFAULT_BUCKET_BITS): Uint8Array {
  checkBucketBits(bucketBits);
  return rootHash(bucketBits, emptyHash(bucketBits));
}

/** Root of the empty tree with the default parameters. */
export const EMPTY_ROOT = emptyRoot(DEFAULT_BUCKET_BITS);

function bucketKey(index: number): Uint8Array {
  return new Uint8Array([PREFIX.TREE, 0x01, index >>> 24, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff]);
}

interface Entry {
  key: Uint8Array;
  vh: Uint8Array;
}

function corrupt(what: string): never {
  throw new InternalError(ERR.DB_CORRUPT, `authenticated tree: ${what}`);
}

/** Parses a stored bucket record (entries as hashed); views into `record`. */
function parseBucket(record: Uint8Array, index: number): Entry[] {
  const out: Entry[] = [];
  let o = 0;
  let prev: Uint8Array | undefined;
  while (o < record.length) {
    if (o + 2 > record.length) corrupt(`bucket ${index} truncated`);
    const kl = (record[o]! << 8) | record[o + 1]!;
    o += 2;
    if (o + kl + 32 > record.length) corrupt(`bucket ${index} truncated`);
    const key = record.subarray(o, o + kl);
    o += kl;
    const vh = record.subarray(o, o + 32);
    o += 32;
    if (prev !== undefined && compareBytes(prev, key) >= 0) corrupt(`bucket ${index} not sorted`);
    prev = key;
    out.push({ key, vh });
  }
  return out;
}

/** TAG_BUCKET ‖ entries: hash it whole, store `.subarray(1)` as the record. */
function serializeBucket(entries: Entry[]): Uint8Array {
  let len = 1;
  for (const e of entries) len += ENTRY_OVERHEAD + e.key.length;
  const out = Buffer.allocUnsafe(len);
  out[0] = TAG_BUCKET;
  let o = 1;
  for (const e of entries) {
    out[o] = e.key.length >>> 8;
    out[o + 1] = e.key.length & 0xff;
    out.set(e.key, o + 2);
    out.set(e.vh, o + 2 + e.key.length);
    o += ENTRY_OVERHEAD + e.key.length;
  }
  return out;
}

interface PendingChange {
  key: Uint8Array;
  vh: Uint8Array | undefined;
}

/** Sorted, deduplicated (last wins) changes merged into sorted entries. */
function mergeBucket(old: Entry[], changes: PendingChange[]): Entry[] {
  const out: Entry[] = [];
  let i = 0;
  let j = 0;
  while (i < old.length || j < changes.length) {
    const o = old[i];
    const c = changes[j];
    const cmp = o === undefined ? 1 : c === undefined ? -1 : compareBytes(o.key, c.key);
    if (cmp < 0) {
      out.push(o!);
      i++;
    } else {
      if (cmp === 0) i++; // replaced or deleted
      if (c!.vh !== undefined) out.push({ key: c!.key, vh: c!.vh });
      j++;
    }
  }
  return out;
}

function encodeMeta(bucketBits: number, root: Uint8Array): Uint8Array {
  const m = new Uint8Array(34);
  m[0] = FORMAT_VERSION;
  m[1] = bucketBits;
  m.set(root, 2);
  return m;
}

function decodeMeta(m: Uint8Array): { bucketBits: number; root: Uint8Array } {
  if (m.length !== 34 || m[0] !== FORMAT_VERSION) corrupt('bad metadata record');
  const bucketBits = m[1]!;
  if (bucketBits < MIN_BUCKET_BITS || bucketBits > MAX_BUCKET_BITS) corrupt(`bad bucketBits ${bucketBits}`);
  return { bucketBits, root: m.slice(2) };
}

/**
 * New hashes of one tree level: heap-numbered nodes (1 = top, children of n are 2n and 2n+1, bucket i
 * is node 2^bucketBits + i), ascending, and their hashes packed 32 bytes each.
 */
interface LevelDelta {
  nodes: number[];
  hashes: Uint8Array;
}

/**
 * Recomputes every inner node above the changed `buckets` level, reading unchanged siblings from
 * the committed array `base`. Returns the deltas bottom-up, buckets first, the top node last.
 */
function rehashAbove(buckets: LevelDelta, bucketBits: number, base: Uint8Array): LevelDelta[] {
  const out: LevelDelta[] = [buckets];
  let child = buckets;
  const scratch = new Uint8Array(65);
  scratch[0] = TAG_NODE;
  for (let l = 0; l < bucketBits; l++) {
    const cn = child.nodes;
    const ch = child.hashes;
    const nodes: number[] = [];
    const hashes = Buffer.allocUnsafe(32 * cn.length);
    let i = 0;
    while (i < cn.length) {
      const p = cn[i]! >>> 1;
      if (cn[i] === 2 * p) {
        copy32(ch, 32 * i, scratch, 1);
        i++;
      } else {
        copy32(base, 64 * p, scratch, 1);
      }
      if (i < cn.length && cn[i] === 2 * p + 1) {
        copy32(ch, 32 * i, scratch, 33);
        i++;
      } else {
        copy32(base, 64 * p + 32, scratch, 33);
      }
      sha256Into(scratch, hashes, 32 * nodes.length);
      nodes.push(p);
    }
    child = { nodes, hashes: hashes.subarray(0, 32 * nodes.length) };
    out.push(child);
  }
  return out;
}

function writeLevels(levels: LevelDelta[], target: Uint8Array): void {
  for (const { nodes, hashes } of levels) {
    for (let k = 0; k < nodes.length; k++) copy32(hashes, 32 * k, target, 32 * nodes[k]!);
  }
}

class Staged implements StagedTree {
  constructor(
    private readonly tree: AuthTree,
    readonly base: Uint8Array,
    readonly root: Uint8Array,
    readonly ops: BatchOp[],
    readonly levels: LevelDelta[],
  ) {}

  apply(): void {
    this.tree.applyStaged(this);
  }
}

export class AuthTree {
  /** Heap-numbered node hashes (node n at bytes [32n, 32n+32)); node 0 unused. */
  private readonly nodes: Uint8Array;
  private committedRoot: Uint8Array;
  /**
   * Committed records of the buckets that outstanding stages touched. Between the write of a stage's
   * ops and its `apply()`, the store is one version ahead of the in-memory tree; reading these keeps
   * `stage` and `prove` on the committed version in that window. Cleared by `apply()`.
   */
  private readonly pendingOld = new Map<number, Uint8Array | undefined>();

  private constructor(
    private readonly store: KvStore,
    readonly bucketBits: number,
  ) {
    this.nodes = new Uint8Array(32 * 2 ** (bucketBits + 1));
    for (let l = 0; l <= bucketBits; l++) {
      const h = emptyHash(l);
      const first = 2 ** (bucketBits - l);
      for (let n = first; n < 2 * first; n++) this.nodes.set(h, 32 * n);
    }
    this.committedRoot = rootHash(bucketBits, this.node(1));
  }

  /** Loads the committed version: rehashes every stored bucket and checks the stored root. */
  static async open(store: KvStore, opts: { bucketBits?: number } = {}): Promise<AuthTree> {
    const metaBytes = store.get(META_KEY);
    const meta = metaBytes === undefined ? undefined : decodeMeta(metaBytes);
    if (opts.bucketBits !== undefined) checkBucketBits(opts.bucketBits);
    if (meta !== undefined && opts.bucketBits !== undefined && opts.bucketBits !== meta.bucketBits) {
      throw new InternalError(ERR.CONFIG, `state tree was built with bucketBits ${meta.bucketBits}, not ${opts.bucketBits}`);
    }
    const bucketBits = meta?.bucketBits ?? opts.bucketBits ?? DEFAULT_BUCKET_BITS;
    const tree = new AuthTree(store, bucketBits);
    const nodes: number[] = [];
    const hashes: Uint8Array[] = [];
    for await (const [k, v] of store.range(prefixRange(BUCKET_PREFIX))) {
      if (k.length !== BUCKET_PREFIX.length + 4) corrupt('bad bucket key');
      const index = new DataView(k.buffer, k.byteOffset, k.byteLength).getUint32(BUCKET_PREFIX.length);
      if (index >= 2 ** bucketBits) corrupt(`bucket index ${index} out of range`);
      if (v.length === 0) corrupt(`empty bucket ${index} stored`);
      nodes.push(2 ** bucketBits + index); // range yields keys in order, so indices ascend
      hashes.push(bucketHash(v));
    }
    const packed = new Uint8Array(32 * nodes.length);
    hashes.forEach((h, k) => packed.set(h, 32 * k));
    writeLevels(rehashAbove({ nodes, hashes: packed }, bucketBits, tree.nodes), tree.nodes);
    tree.committedRoot = rootHash(bucketBits, tree.node(1));
    const expected = meta?.root ?? emptyRoot(bucketBits);
    if (!bytesEqual(tree.committedRoot, expected)) corrupt('stored root does not match the stored buckets');
    return tree;
  }

  /** Committed root. */
  get root(): Uint8Array {
    return new Uint8Array(this.committedRoot);
  }

  private node(n: number): Uint8Array {
    return this.nodes.subarray(32 * n, 32 * n + 32);
  }

  private readCommitted(index: number): Uint8Array | undefined {
    if (this.pendingOld.has(index)) return this.pendingOld.get(index);
    return this.store.get(bucketKey(index));
  }

  /**
   * Computes the tree after `changes` (the same key may appear several times: the last change wins)
   * without touching the committed version. Throws InternalError for a key that is not a
   * Uint8Array of at most MAX_KEY_BYTES, or a value that is neither a Uint8Array nor undefined.
   */
  async stage(changes: StateChange[]): Promise<StagedTree> {
    const bits = this.bucketBits;
    const byBucket = new Map<number, PendingChange[]>();
    for (const c of changes) {
      if (!(c.key instanceof Uint8Array) || c.key.length > MAX_KEY_BYTES) {
        throw new InternalError(ERR.TOO_LARGE, `state key must be a byte string of at most ${MAX_KEY_BYTES} bytes`);
      }
      if (c.value !== undefined && !(c.value instanceof Uint8Array)) throw new InternalError(ERR.ENCODING, 'state value must be bytes or undefined');
      // no copy of the key: stage runs synchronously and copies it into the new record
      const pending = { key: c.key, vh: c.value === undefined ? undefined : valueHash(c.value) };
      const index = bucketOf(c.key, bits);
      const list = byBucket.get(index);
      if (list === undefined) byBucket.set(index, [pending]);
      else list.push(pending);
    }
    const touched = [...byBucket.keys()].sort((a, b) => a - b);
    const firstBucket = 2 ** bits;
    const nodes: number[] = new Array<number>(touched.length);
    const hashes = Buffer.allocUnsafe(32 * touched.length);
    const ops: BatchOp[] = [];
    for (let t = 0; t < touched.length; t++) {
      const index = touched[t]!;
      nodes[t] = firstBucket + index;
      const list = byBucket.get(index)!;
      // stable sort, then keep the last change of each key
      if (list.length > 1) list.sort((a, b) => compareBytes(a.key, b.key));
      const dedup: PendingChange[] = [];
      for (const c of list) {
        const last = dedup[dedup.length - 1];
        if (last !== undefined && bytesEqual(last.key, c.key)) dedup[dedup.length - 1] = c;
        else dedup.push(c);
      }
      const oldRecord = this.readCommitted(index);
      if (!this.pendingOld.has(index)) this.pendingOld.set(index, oldRecord);
      const tagged = serializeBucket(mergeBucket(oldRecord === undefined ? [] : parseBucket(oldRecord, index), dedup));
      const record = tagged.subarray(1);
      if (oldRecord !== undefined ? bytesEqual(record, oldRecord) : record.length === 0) {
        copy32(this.nodes, 32 * (firstBucket + index), hashes, 32 * t); // unchanged
        continue;
      }
      const key = bucketKey(index);
      if (record.length === 0) ops.push({ type: 'del', key });
      else ops.push({ type: 'put', key, value: record });
      sha256Into(tagged, hashes, 32 * t);
    }
    const levels = rehashAbove({ nodes, hashes }, bits, this.nodes);
    const top = levels[levels.length - 1]!;
    const root = rootHash(bits, top.nodes.length > 0 ? top.hashes.subarray(0, 32) : this.node(1));
    ops.push({ type: 'put', key: META_KEY.slice(), value: encodeMeta(bits, root) });
    return new Staged(this, this.committedRoot, root, ops, levels);
  }

  /** @internal Called by StagedTree.apply(). */
  applyStaged(s: Staged): void {
    if (!bytesEqual(s.base, this.committedRoot)) {
      throw new InternalError('STATE_TREE_STALE_STAGE', 'apply() on a staged tree whose base is no longer the committed root');
    }
    const stored = this.store.get(META_KEY);
    const storedRoot = stored === undefined ? emptyRoot(this.bucketBits) : decodeMeta(stored).root;
    if (!bytesEqual(storedRoot, s.root)) {
      throw new InternalError('STATE_TREE_OPS_NOT_WRITTEN', 'apply() before the staged ops were written to the store');
    }
    writeLevels(s.levels, this.nodes);
    this.committedRoot = new Uint8Array(s.root);
    this.pendingOld.clear();
  }

  /** Inclusion or non-inclusion proof for `key` against the committed root. */
  async prove(key: Uint8Array): Promise<StateProof> {
    if (!(key instanceof Uint8Array) || key.length > MAX_KEY_BYTES) {
      throw new InvalidMessageError(ERR.TOO_LARGE, `state key must be a byte string of at most ${MAX_KEY_BYTES} bytes`);
    }
    const bits = this.bucketBits;
    const index = bucketOf(key, bits);
    const record = this.readCommitted(index);
    const entries = record === undefined ? [] : parseBucket(record, index).map((e) => ({ key: new Uint8Array(e.key), valueHash: new Uint8Array(e.vh) }));
    const siblings: Uint8Array[] = [];
    for (let n = 2 ** bits + index; n > 1; n >>>= 1) siblings.push(new Uint8Array(this.node(n ^ 1)));
    return { bucketBits: bits, entries, siblings };
  }
}

const proofEntryCodec: Codec<ProofEntry> = struct<ProofEntry>({ key: bytes(MAX_KEY_BYTES), valueHash: bytes32 }, ['key', 'valueHash']);

/** Canonical encoding: [bucketBits, [[key, valueHash]…], [sibling…]]. */
export const stateProofCodec: Codec<StateProof> = struct<StateProof>(
  {
    bucketBits: uint(MAX_BUCKET_BITS),
    entries: list(proofEntryCodec, MAX_PROOF_ENTRIES),
    siblings: list(bytes32, MAX_BUCKET_BITS),
  },
  ['bucketBits', 'entries', 'siblings'],
);

function isBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array;
}

function verifyUnchecked(root: unknown, key: unknown, value: unknown, proof: unknown): boolean {
  if (!isBytes(root) || root.length !== 32) return false;
  if (!isBytes(key) || key.length > MAX_KEY_BYTES) return false;
  if (value !== undefined && !isBytes(value)) return false;
  if (typeof proof !== 'object' || proof === null) return false;
  const { bucketBits, entries, siblings } = proof as Record<string, unknown>;
  if (typeof bucketBits !== 'number' || !Number.isInteger(bucketBits) || bucketBits < MIN_BUCKET_BITS || bucketBits > MAX_BUCKET_BITS) return false;
  if (!Array.isArray(entries) || entries.length > MAX_PROOF_ENTRIES) return false;
  if (!Array.isArray(siblings) || siblings.length !== bucketBits) return false;

  const checked: Entry[] = [];
  let found: Uint8Array | undefined;
  let prev: Uint8Array | undefined;
  for (const e of entries as unknown[]) {
    if (typeof e !== 'object' || e === null) return false;
    const { key: k, valueHash: vh } = e as Record<string, unknown>;
    if (!isBytes(k) || k.length > MAX_KEY_BYTES || !isBytes(vh) || vh.length !== 32) return false;
    if (prev !== undefined && compareBytes(prev, k) >= 0) return false; // strictly ascending
    if (bytesEqual(k, key)) found = vh;
    prev = k;
    checked.push({ key: k, vh });
  }
  if (value === undefined) {
    if (found !== undefined) return false;
  } else if (found === undefined || !bytesEqual(found, valueHash(value))) {
    return false;
  }

  const index = bucketOf(key, bucketBits);
  let cur = sha(serializeBucket(checked));
  for (let l = 0; l < bucketBits; l++) {
    const sib: unknown = siblings[l];
    if (!isBytes(sib) || sib.length !== 32) return false;
    cur = (index >>> l) & 1 ? innerHash(sib, cur) : innerHash(cur, sib);
  }
  return bytesEqual(rootHash(bucketBits, cur), root);
}

/**
 * Checks that `proof` shows `key` ↦ `value` (or, for `value` undefined, that `key` is absent) under
 * `root`. Pure, no database; returns false (never throws) on any malformed input.
 */
export function verifyProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | undefined, proof: StateProof): boolean {
  try {
    return verifyUnchecked(root, key, value, proof);
  } catch {
    return false;
  }
}
