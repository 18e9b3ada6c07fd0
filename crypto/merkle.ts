// RFC 6962 / RFC 9162 Merkle tree hash over SHA-256: leaf = H(0x00‖d), node = H(0x01‖l‖r), split at
// the largest power of two below the size, odd nodes never duplicated. So a 64-byte leaf can't pose
// as an inner node and [a,b,c] and [a,b,c,c] have different roots (CVE-2012-2459).
// Used for block transaction/result roots and for data-at-rest receipts.
// `merkleRoot` runs in our native addon (native/merkle.c: the whole tree in one call, OpenSSL's
// SHA-256) where `npm install` built it, and here in JavaScript elsewhere or with IOTCHAIN_MERKLE=js;
// the tests compare the two. Proofs and their verification stay here (one path each, not per block).
import { sha256 } from './hash.js';
import { bytesEqual } from '../lib/hex.js';
import { loadBinding, ADDON_PATH } from './native.js';

interface MerkleBinding {
  merkleRoot(items: Uint8Array[]): Uint8Array;
}

const nativeMerkle = loadBinding<MerkleBinding>('IOTCHAIN_MERKLE', 'js', ADDON_PATH);

/** Which implementation computes Merkle roots in this process. */
export const MERKLE_IMPL: 'native' | 'js' = nativeMerkle ? 'native' : 'js';

const LEAF = new Uint8Array([0x00]);
const NODE = new Uint8Array([0x01]);

export const EMPTY_ROOT = sha256();

export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(LEAF, data);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE, left, right);
}

/** Largest power of two strictly less than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function rootOfHashes(leaves: Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 1) return leaves[lo]!;
  const k = splitPoint(n);
  return nodeHash(rootOfHashes(leaves, lo, lo + k), rootOfHashes(leaves, lo + k, hi));
}

/** Merkle Tree Hash of a list of data items (a fresh array). */
export function merkleRoot(items: Uint8Array[]): Uint8Array {
  return nativeMerkle ? nativeMerkle.merkleRoot(items) : merkleRootJs(items);
}

/** The JavaScript path of `merkleRoot`. Exported for the differential test; callers use `merkleRoot`. */
export function merkleRootJs(items: Uint8Array[]): Uint8Array {
  if (items.length === 0) return Uint8Array.from(EMPTY_ROOT);
  return rootOfHashes(items.map(leafHash), 0, items.length);
}

/** The native path of `merkleRoot`; throws where the addon is not built. Exported for the differential test. */
export function merkleRootNative(items: Uint8Array[]): Uint8Array {
  if (!nativeMerkle) throw new Error('the native addon is not built (npm install builds native/)');
  return nativeMerkle.merkleRoot(items);
}

/** Root over precomputed leaf hashes. */
export function merkleRootOfLeafHashes(leafHashes: Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  return rootOfHashes(leafHashes, 0, leafHashes.length);
}

/** Audit path (RFC 6962 §2.1.1 PATH), bottom-up, for leaf `index` in a tree of `items.length` leaves. */
export function inclusionProof(items: Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= items.length) throw new RangeError(`leaf index ${index} outside tree of ${items.length}`);
  const leaves = items.map(leafHash);
  const path: Uint8Array[] = [];
  const walk = (lo: number, hi: number, m: number): void => {
    const n = hi - lo;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(lo, lo + k, m);
      path.push(rootOfHashes(leaves, lo + k, hi));
    } else {
      walk(lo + k, hi, m - k);
      path.push(rootOfHashes(leaves, lo, lo + k));
    }
  };
  walk(0, leaves.length, index);
  return path;
}

/** Side of each sibling in the audit path, derived from (index, size) alone (RFC 9162 §2.1.3.2). */
export function proofSides(index: number, size: number): ('left' | 'right')[] {
  const sides: ('left' | 'right')[] = [];
  let fn = index;
  let sn = size - 1;
  while (sn > 0) {
    if (fn % 2 === 1 || fn === sn) {
      sides.push('left');
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sides.push('right');
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sides;
}

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2) binding leaf index and tree size: returns true only
 * if `leafData` is leaf number `index` of a tree of `size` leaves whose root is `root`.
 */
export function verifyInclusion(root: Uint8Array, leafData: Uint8Array, index: number, size: number, path: Uint8Array[]): boolean {
  return verifyInclusionOfLeafHash(root, leafHash(leafData), index, size, path);
}

export function verifyInclusionOfLeafHash(root: Uint8Array, leaf: Uint8Array, index: number, size: number, path: Uint8Array[]): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (p.length !== 32 || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && bytesEqual(r, root);
}
