import t from 'tap';
import { merkleRoot, leafHash, inclusionProof, verifyInclusion, proofSides, EMPTY_ROOT } from '../../../crypto/merkle.js';
import { toHex, utf8 } from '../../../lib/hex.js';

t.test('RFC 6962 vectors', async (t) => {
  t.equal(toHex(EMPTY_ROOT), '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(toHex(leafHash(new Uint8Array())), '0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  // RFC 6962 test data (certificate-transparency merkle_tree_test): 8 leaves, root of the whole tree
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
    (h) => new Uint8Array(Buffer.from(h, 'hex')),
  );
  t.equal(toHex(merkleRoot(leaves)), '0x5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  t.equal(toHex(merkleRoot(leaves.slice(0, 1))), '0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  t.equal(toHex(merkleRoot(leaves.slice(0, 3))), '0xaeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77');
  t.equal(toHex(merkleRoot(leaves.slice(0, 5))), '0x4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4');
});

t.test('CVE-2012-2459: odd nodes are not duplicated', async (t) => {
  const [a, b, c] = ['a', 'b', 'c'].map(utf8) as [Uint8Array, Uint8Array, Uint8Array];
  t.not(toHex(merkleRoot([a, b, c])), toHex(merkleRoot([a, b, c, c])));
});

t.test('inclusion proofs for every index and size up to 33 bind index and size', async (t) => {
  for (let size = 1; size <= 33; size++) {
    const items = Array.from({ length: size }, (_, i) => utf8(`row-${i}`));
    const root = merkleRoot(items);
    for (let i = 0; i < size; i++) {
      const path = inclusionProof(items, i);
      t.equal(proofSides(i, size).length, path.length);
      if (!verifyInclusion(root, items[i]!, i, size, path)) t.fail(`size ${size} index ${i}`);
      if (size > 1 && verifyInclusion(root, items[i]!, (i + 1) % size, size, path)) t.fail(`wrong index accepted ${size}/${i}`);
      if (verifyInclusion(root, utf8('forged'), i, size, path)) t.fail('forged leaf accepted');
      if (verifyInclusion(root, items[i]!, i, size, path.slice(0, -1)) && path.length > 0) t.fail('truncated path accepted');
    }
  }
  t.pass('all proofs checked');
  // the last leaf of 3 has a one-sibling path; claiming size 4 needs two, so the claim fails
  const items = ['a', 'b', 'c'].map(utf8);
  t.ok(verifyInclusion(merkleRoot(items), items[2]!, 2, 3, inclusionProof(items, 2)));
  t.notOk(verifyInclusion(merkleRoot(items), items[2]!, 2, 4, inclusionProof(items, 2)));
});
