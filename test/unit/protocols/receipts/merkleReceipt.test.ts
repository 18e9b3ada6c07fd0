// Sub-table split (any m and n), the levels tree against crypto/merkle.ts (RFC 6962), [{side, hash}]
// proofs with sides from (index, size), forged proofs, and the receipt JSON format.
import t from 'tap';
import { sha256 } from '../../../../crypto/hash.js';
import { inclusionProof, leafHash, merkleRoot, merkleRootOfLeafHashes, proofSides } from '../../../../crypto/merkle.js';
import { toHex, utf8 } from '../../../../lib/hex.js';
import { InvalidMessageError } from '../../../../lib/errors.js';
import {
  MerkleLevels,
  checkReceipt,
  receiptFromJson,
  receiptToJson,
  splitBatch,
  subTableLeaf,
  subTableSizes,
  verifyProofSteps,
  type Receipt,
} from '../../../../protocols/receipts/merkleReceipt.js';
import { encodeRows, type Row } from '../../../../protocols/receipts/rows.js';
import { chainSigner, signReading } from '../../../../protocols/receipts/signatureChain.js';
import { entity } from './fixture.js';

const h = (s: string) => sha256(utf8(s));

t.test('sub-table sizes: the paper for n ≤ m, one row each for n > m', async (t) => {
  t.same(subTableSizes(400, 4), [100, 100, 100, 100]);
  t.same(subTableSizes(10, 4), [3, 3, 2, 2], 'first m mod n hold ⌈m/n⌉');
  t.same(subTableSizes(7, 7), [1, 1, 1, 1, 1, 1, 1]);
  t.same(subTableSizes(3, 8), [1, 1, 1], 'n > m: k = m leaves, never an empty one');
  t.same(subTableSizes(5, 1), [5]);
  t.same(subTableSizes(1, 1), [1]);
  for (let m = 1; m <= 40; m++) {
    for (let n = 1; n <= 45; n++) {
      const s = subTableSizes(m, n);
      if (s.reduce((a, b) => a + b, 0) !== m || s.length !== Math.min(m, n) || Math.max(...s) - Math.min(...s) > 1 || s.some((x, i) => i > 0 && x > s[i - 1]!)) {
        t.fail(`m=${m} n=${n}: ${s}`);
      }
    }
  }
  t.throws(() => subTableSizes(0, 4), RangeError);
  t.throws(() => subTableSizes(4, 0), RangeError);
});

t.test('splitBatch: ranges tile the batch even when ids have gaps', async (t) => {
  const e = entity('split');
  const rows: Row[] = [3, 4, 9, 10, 11, 20, 21].map((id) => ({ id, table: 't', groupId: undefined, kind: 'reading', envelope: signReading(chainSigner(e.online), { seq: id, timestamp: id, data: utf8('x') }) }));
  const subs = splitBatch(rows, 3, 2);
  t.same(subs.map((s) => [s.firstId, s.lastId, s.rows.map((r) => r.id)]), [
    [2, 9, [3, 4, 9]],
    [10, 11, [10, 11]],
    [12, 21, [20, 21]],
  ]);
  t.equal(toHex(subTableLeaf(subs[0]!.rows)), toHex(leafHash(encodeRows(subs[0]!.rows))), 'leaf = H(0x00 ‖ encodeRows)');
});

t.test('MerkleLevels = RFC 6962 (crypto/merkle.ts) for every size up to 70; proofs and sides agree', async (t) => {
  t.equal(toHex(merkleRoot([])), '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'empty root (RFC 6962)');
  t.equal(toHex(leafHash(new Uint8Array(0))), '0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', 'leaf("")');
  for (let size = 1; size <= 70; size++) {
    const items = Array.from({ length: size }, (_, i) => utf8(`item ${i}`));
    const leaves = items.map(leafHash);
    const tree = new MerkleLevels(leaves);
    if (toHex(tree.root) !== toHex(merkleRoot(items))) t.fail(`root differs at size ${size}`);
    for (let i = 0; i < size; i++) {
      const steps = tree.proof(i);
      const ref = inclusionProof(items, i);
      if (steps.map((s) => toHex(s.hash)).join() !== ref.map(toHex).join()) t.fail(`path differs at ${i}/${size}`);
      if (steps.map((s) => s.side).join() !== proofSides(i, size).join()) t.fail(`sides differ at ${i}/${size}`);
      if (!verifyProofSteps(tree.root, leaves[i]!, i, size, steps).ok) t.fail(`proof fails at ${i}/${size}`);
    }
  }
  t.pass('checked sizes 1..70, every leaf');
  const abc = ['a', 'b', 'c'].map((s) => leafHash(utf8(s)));
  t.not(toHex(new MerkleLevels(abc).root), toHex(new MerkleLevels([...abc, abc[2]!]).root), 'CVE-2012-2459: [a,b,c] ≠ [a,b,c,c]');
  t.equal(toHex(new MerkleLevels(abc).root), toHex(merkleRootOfLeafHashes(abc)));
});

t.test('forged proofs fail: wrong side, wrong hash, wrong position, wrong size, extra or missing steps', async (t) => {
  const leaves = ['y1', 'y2', 'y3', 'y4', 'y5'].map((s) => leafHash(utf8(s)));
  const tree = new MerkleLevels(leaves);
  const steps = tree.proof(1);
  t.ok(verifyProofSteps(tree.root, leaves[1]!, 1, 5, steps).ok);
  const flipped = steps.map((s, i) => (i === 0 ? { ...s, side: s.side === 'left' ? ('right' as const) : ('left' as const) } : s));
  t.match(verifyProofSteps(tree.root, leaves[1]!, 1, 5, flipped), { ok: false, reason: /needs its sibling on the left/ });
  t.match(verifyProofSteps(tree.root, leaves[1]!, 1, 5, [{ ...steps[0]!, hash: h('x') }, ...steps.slice(1)]), { ok: false, reason: /does not lead to the root/ });
  t.match(verifyProofSteps(tree.root, leaves[1]!, 0, 5, steps), { ok: false });
  t.match(verifyProofSteps(tree.root, leaves[1]!, 1, 4, steps), { ok: false });
  t.match(verifyProofSteps(tree.root, leaves[1]!, 1, 5, steps.slice(1)), { ok: false, reason: /steps/ });
  t.match(verifyProofSteps(tree.root, leaves[1]!, 1, 5, [...steps, steps[0]!]), { ok: false, reason: /steps/ });
  t.match(verifyProofSteps(tree.root, leaves[0]!, 1, 5, steps), { ok: false, reason: /root/ }, 'another leaf');
  // A 64-byte "leaf" made of two child hashes cannot stand in for their parent (leaf/node prefixes differ).
  const parent = tree.levels[1]![0]!;
  t.notOk(verifyProofSteps(tree.root, leafHash(new Uint8Array([...leaves[0]!, ...leaves[1]!])), 0, 3, tree.proof(0).slice(1)).ok);
  t.ok(parent.length === 32);
});

function sampleReceipt(): Receipt {
  const leaves = [h('y1'), h('y2'), h('y3'), h('y4')];
  const tree = new MerkleLevels(leaves);
  return {
    table: 'readings', m: 400, n: 4, batch: 0, batchFirstId: 1, batchLastId: 400, firstId: 101, lastId: 200, rows: 100, leafIndex: 1, treeSize: 4,
    targetHash: leaves[1]!, merkleRoot: tree.root, proof: tree.proof(1),
    anchor: { chainId: 'c-1', txHash: h('tx'), height: 12, time: 1_700_000_000_000, submitter: new Uint8Array(20).fill(7) },
  };
}

t.test('receipt JSON: Chainpoint-like, explicit prefixes, strict round trip', async (t) => {
  const r = sampleReceipt();
  const j = receiptToJson(r) as Record<string, unknown>;
  t.match(j, { type: 'iotchain-receipt/v1', hash: 'sha-256', tree: 'rfc6962', leafPrefix: '0x00', nodePrefix: '0x01', leafIndex: 1, treeSize: 4, m: 400, n: 4, firstId: 101, lastId: 200 });
  t.same(j.proof, [{ side: 'left', hash: toHex(h('y1')) }, { side: 'right', hash: toHex(new MerkleLevels([h('y3'), h('y4')]).root) }], "the paper's Fig. 6b: left h1, right h6");
  t.match(j.anchor, { chainId: 'c-1', module: 'receipts', method: 'storeRootHash', height: 12 });
  t.same(receiptFromJson(JSON.parse(JSON.stringify(j))), r);
  t.ok(checkReceipt(r).ok);
  const bad = (patch: Record<string, unknown>, re: RegExp, what: string) =>
    t.throws(() => receiptFromJson({ ...JSON.parse(JSON.stringify(j)), ...patch }), { constructor: InvalidMessageError, message: re }, what);
  bad({ leafPrefix: '0x01' }, /leafPrefix/, 'a different leaf prefix');
  bad({ extra: 1 }, /unknown field/, 'unknown field');
  bad({ m: '400' }, /receipt\.m/, 'a number as a string');
  bad({ proof: [{ side: 'up', hash: toHex(h('a')) }] }, /side/, 'a bad side');
});

t.test('checkReceipt: fields that contradict each other', async (t) => {
  const r = sampleReceipt();
  t.match(checkReceipt({ ...r, treeSize: 5 }), { ok: false, reason: /tree size/ });
  t.match(checkReceipt({ ...r, rows: 99 }), { ok: false, reason: /holds 100 rows/ });
  t.match(checkReceipt({ ...r, firstId: 500, lastId: 600 }), { ok: false, reason: /not inside the batch/ });
  t.match(checkReceipt({ ...r, leafIndex: 0 }), { ok: false }, 'moved to another leaf');
  t.match(checkReceipt({ ...r, merkleRoot: h('other') }), { ok: false, reason: /root/ }, 'another root');
  t.match(checkReceipt({ ...r, targetHash: h('forged') }), { ok: false, reason: /root/ }, 'a forged leaf');
});
