import t from 'tap';
import { execFileSync } from 'node:child_process';
import { merkleRoot, merkleRootJs, merkleRootNative, MERKLE_IMPL, leafHash, inclusionProof, verifyInclusion, proofSides, EMPTY_ROOT } from '../../../crypto/merkle.js';
import { toHex, utf8 } from '../../../lib/hex.js';
import { prng, randBytes } from '../../utils/prng.js';

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

// The native root (native/merkle.c) and the JavaScript one must agree on every input, or nodes with
// and without the addon would disagree on block tx and results roots.
t.test('merkle root: the native addon is built here, IOTCHAIN_MERKLE=js turns it off', async (t) => {
  if (process.env.IOTCHAIN_MERKLE === 'js') t.equal(MERKLE_IMPL, 'js');
  // CI machines and this project's reference machine build the addon; elsewhere either is correct
  else if (process.env.CI === 'true' && process.platform === 'linux') t.equal(MERKLE_IMPL, 'native');
  else t.ok(['native', 'js'].includes(MERKLE_IMPL));
  const forced = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import('./crypto/merkle.ts').then((m) => process.stdout.write(m.MERKLE_IMPL + ' ' + Buffer.from(m.merkleRoot([new Uint8Array([1])])).toString('hex')))"], {
    env: { ...process.env, IOTCHAIN_MERKLE: 'js' },
    encoding: 'utf8',
  });
  t.equal(forced, `js ${toHex(merkleRootJs([new Uint8Array([1])])).slice(2)}`, 'IOTCHAIN_MERKLE=js computes roots in JavaScript');
});

const notBuilt = MERKLE_IMPL === 'native' ? false : 'the native addon is not built on this machine (npm install says why)';

t.test('merkle root: native and JavaScript agree on every size 0–300 and on random lists', { skip: notBuilt }, async (t) => {
  const rand = seeded(0x3e61);
  let checked = 0;
  const check = (items: Uint8Array[], what: string): void => {
    checked++;
    const a = toHex(merkleRootNative(items));
    const b = toHex(merkleRootJs(items));
    if (a !== b) t.fail(`${what}: native ${a}, JavaScript ${b}`);
  };
  for (let n = 0; n <= 300; n++) check(Array.from({ length: n }, (_, i) => rand(i % 7 === 0 ? 0 : 1 + ((i * 37) % 300))), `size ${n}`);
  for (let r = 0; r < 40; r++) {
    const n = 1 + rand(1)[0]! * 8; // up to 2,041 items
    check(Array.from({ length: n }, () => rand(rand(1)[0]!)), `random list ${r}`);
  }
  // items as views into one buffer at odd offsets, and Buffers (what LevelDB and sockets give)
  const big = rand(4096);
  check(Array.from({ length: 63 }, (_, i) => big.subarray(i * 13 + 1, i * 13 + 1 + (i % 50))), 'offset views');
  check(Array.from({ length: 9 }, (_, i) => Buffer.from(rand(i * 5))), 'Buffers');
  t.equal(checked, 301 + 40 + 2);
  t.equal(toHex(merkleRootNative([])), toHex(EMPTY_ROOT), 'empty list: SHA-256 of nothing');
  t.not(merkleRoot([]), EMPTY_ROOT, 'a fresh array each time, never the shared constant');
  t.equal(merkleRootNative([utf8('a')]).length, 32);
});

t.test('merkle root native binding: anything but an array of Uint8Arrays is a TypeError', { skip: notBuilt }, async (t) => {
  const bad: unknown[] = [undefined, null, 'abc', new Uint8Array(3), [1, 2], [new Uint8Array(1), 'x'], [new Uint16Array(2)], [{}], [new Uint8Array(1), null]];
  for (const b of bad) t.throws(() => merkleRootNative(b as Uint8Array[]), TypeError, `rejects ${Object.prototype.toString.call(b)} ${JSON.stringify(b) ?? ''}`);
  const { createRequire } = await import('node:module');
  const binding = createRequire(import.meta.url)('../../../native/build/Release/iotchain_native.node') as { merkleRoot(...a: unknown[]): Uint8Array };
  t.throws(() => binding.merkleRoot(), TypeError, 'no argument');
  t.throws(() => binding.merkleRoot([], []), TypeError, 'two arguments');
});

/** Deterministic bytes from a seed: `rand(n)` is n fresh bytes (test/utils/prng.ts). */
function seeded(seed: number): (n: number) => Uint8Array {
  const rand = prng(seed);
  return (n) => randBytes(rand, n);
}
