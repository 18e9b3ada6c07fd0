import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthTree,
  EMPTY_ROOT,
  emptyRoot,
  bucketOf,
  valueHash,
  verifyProof,
  stateProofCodec,
  type StateChange,
  type StateProof,
  type StagedTree,
} from '../../../state/authTree.js';
import { MemoryKvStore, LevelKvStore, prefixRange, type KvStore } from '../../../state/kvStore.js';
import { PREFIX } from '../../../state/prefixes.js';
import { encode, decode } from '../../../lib/encoding.js';
import { InternalError } from '../../../lib/errors.js';
import { sha256 } from '../../../crypto/hash.js';
import { compareBytes, concatBytes, toHex, utf8 } from '../../../lib/hex.js';

// --- deterministic pseudo-random input (xorshift32; no Math.random) ---
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
function randBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}
function randKey(next: () => number): Uint8Array {
  return randBytes(next, 1 + (next() % 48));
}
function shuffle<T>(next: () => number, xs: T[]): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
const hexKey = (k: Uint8Array): string => Buffer.from(k).toString('hex');

/** Stages, writes and applies: one block's worth of changes. */
async function commit(tree: AuthTree, store: KvStore, changes: StateChange[]): Promise<StagedTree> {
  const s = await tree.stage(changes);
  await store.batch(s.ops);
  s.apply();
  return s;
}

/**
 * Independent reference: the root straight from the documented formulas (state/README.md), over a
 * map of key → value, with crypto/hash.ts's sha256 and no incremental logic.
 */
function referenceRoot(model: Map<string, Uint8Array>, bits: number): Uint8Array {
  const buckets = new Map<number, [Uint8Array, Uint8Array][]>();
  for (const [kh, v] of model) {
    const key = new Uint8Array(Buffer.from(kh, 'hex'));
    const d = sha256(key);
    const idx = Buffer.from(d).readUInt32BE(0) >>> (32 - bits);
    const list = buckets.get(idx) ?? [];
    list.push([key, sha256(new Uint8Array([0x00]), v)]);
    buckets.set(idx, list);
  }
  let level: Uint8Array[] = [];
  for (let i = 0; i < 2 ** bits; i++) {
    const entries = (buckets.get(i) ?? []).sort((a, b) => compareBytes(a[0], b[0]));
    const parts: Uint8Array[] = [new Uint8Array([0x02])];
    for (const [k, vh] of entries) parts.push(new Uint8Array([k.length >> 8, k.length & 0xff]), k, vh);
    level.push(sha256(...parts));
  }
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(sha256(new Uint8Array([0x01]), level[i]!, level[i + 1]!));
    level = up;
  }
  return sha256(new Uint8Array([0x03, bits]), level[0]!);
}

t.test('empty tree: fixed root, non-inclusion proofs', async (t) => {
  const store = new MemoryKvStore();
  const tree = await AuthTree.open(store);
  t.equal(toHex(tree.root), toHex(EMPTY_ROOT));
  t.equal(toHex(EMPTY_ROOT), toHex(referenceRoot(new Map(), 16)));
  // pinned vectors (computed independently with node:crypto from the README formulas)
  t.equal(toHex(EMPTY_ROOT), '0x97e5b2108f89a9a3d651768569a107aa9d42e016aae5b6dc5b5073911ebaaee7');
  t.equal(toHex(emptyRoot(1)), '0xcc138d8e2ef070acfcf9f831c5dee932131892a2f8ff56fa4eb1a9fd870e766b');
  t.equal(toHex(EMPTY_ROOT), toHex(emptyRoot(16)));
  {
    const s1 = new MemoryKvStore();
    const one = await AuthTree.open(s1, { bucketBits: 1 });
    await commit(one, s1, [{ key: utf8('abc'), value: utf8('xyz') }]);
    t.equal(toHex(one.root), '0x68f26e89b0a6f3337b199bf0c681ccbe8edb44ece8d7a912262c7dc330f6cc8a', 'one-entry vector');
  }
  t.not(toHex(emptyRoot(4)), toHex(EMPTY_ROOT), 'the root binds the depth');
  t.equal(toHex(emptyRoot(4)), toHex(referenceRoot(new Map(), 4)));
  const p = await tree.prove(utf8('nothing'));
  t.equal(p.entries.length, 0);
  t.equal(p.siblings.length, 16);
  t.ok(verifyProof(tree.root, utf8('nothing'), undefined, p));
  t.notOk(verifyProof(tree.root, utf8('nothing'), utf8('x'), p));
  // staging nothing keeps the root
  const s = await commit(tree, store, []);
  t.equal(toHex(s.root), toHex(EMPTY_ROOT));
  t.throws(() => emptyRoot(0));
  t.throws(() => emptyRoot(21));
});

t.test('inclusion and non-inclusion proofs for many keys', async (t) => {
  for (const bits of [4, 8, 16]) {
    const next = prng(0xc0ffee + bits);
    const store = new MemoryKvStore();
    const tree = await AuthTree.open(store, { bucketBits: bits });
    const model = new Map<string, Uint8Array>();
    const changes: StateChange[] = [];
    for (let i = 0; i < 600; i++) {
      const key = randKey(next);
      const value = randBytes(next, next() % 200);
      changes.push({ key, value });
      model.set(hexKey(key), value);
    }
    await commit(tree, store, changes);
    t.equal(toHex(tree.root), toHex(referenceRoot(model, bits)), `bits ${bits}: root matches the reference`);
    let bad = 0;
    let maxEntries = 0;
    for (const [kh, v] of model) {
      const key = new Uint8Array(Buffer.from(kh, 'hex'));
      const p = await tree.prove(key);
      maxEntries = Math.max(maxEntries, p.entries.length);
      const wire = decode(stateProofCodec, encode(stateProofCodec, p), 'proof');
      if (!verifyProof(tree.root, key, v, p) || !verifyProof(tree.root, key, v, wire)) bad++;
      if (verifyProof(tree.root, key, undefined, p)) bad++; // present key: non-inclusion must fail
    }
    for (let i = 0; i < 300; i++) {
      const key = randKey(next);
      if (model.has(hexKey(key))) continue;
      const p = await tree.prove(key);
      if (!verifyProof(tree.root, key, undefined, p)) bad++;
      if (verifyProof(tree.root, key, utf8('anything'), p)) bad++;
    }
    t.equal(bad, 0, `bits ${bits}: every proof checks (largest bucket ${maxEntries})`);
    if (bits === 4) t.ok(maxEntries > 20, 'small bucketBits puts many keys in one bucket');
  }
});

t.test('proofs fail for wrong value, key, root, tampering, truncation, another key', async (t) => {
  const next = prng(7);
  const store = new MemoryKvStore();
  const tree = await AuthTree.open(store, { bucketBits: 6 });
  const keys = Array.from({ length: 200 }, () => randKey(next));
  const values = keys.map(() => randBytes(next, 100));
  await commit(tree, store, keys.map((key, i) => ({ key, value: values[i] })));
  const root = tree.root;
  let checked = 0;
  for (let i = 0; i < 50; i++) {
    const key = keys[i]!;
    const value = values[i]!;
    const p = await tree.prove(key);
    t.ok(verifyProof(root, key, value, p));
    const otherValue = Uint8Array.from(value);
    otherValue[0]! ^= 1;
    t.notOk(verifyProof(root, key, otherValue, p), 'wrong value');
    t.notOk(verifyProof(root, key, value.subarray(1), p), 'truncated value');
    const otherKey = concatBytes(key, new Uint8Array([0]));
    t.notOk(verifyProof(root, otherKey, value, p), 'wrong key (extended)');
    const badRoot = Uint8Array.from(root);
    badRoot[31]! ^= 0x80;
    t.notOk(verifyProof(badRoot, key, value, p), 'wrong root');
    // tampered sibling
    for (let l = 0; l < p.siblings.length; l++) {
      const sib = p.siblings.map((s) => Uint8Array.from(s));
      sib[l]![l % 32]! ^= 1;
      if (verifyProof(root, key, value, { ...p, siblings: sib })) t.fail(`tampered sibling ${l} accepted`);
    }
    // tampered entries: change another entry's value hash, drop an entry, add an entry
    if (p.entries.length > 1) {
      const j = p.entries.findIndex((e) => compareBytes(e.key, key) !== 0);
      const entries = p.entries.map((e) => ({ key: e.key, valueHash: Uint8Array.from(e.valueHash) }));
      entries[j]!.valueHash[0]! ^= 1;
      t.notOk(verifyProof(root, key, value, { ...p, entries }), 'tampered neighbour entry');
      t.notOk(verifyProof(root, key, value, { ...p, entries: p.entries.filter((_, x) => x !== j) }), 'dropped neighbour');
    }
    const withOwnRemoved = { ...p, entries: p.entries.filter((e) => compareBytes(e.key, key) !== 0) };
    t.notOk(verifyProof(root, key, undefined, withOwnRemoved), 'non-inclusion by hiding the entry');
    const injected = { ...p, entries: [...p.entries, { key: new Uint8Array([0xff, 0xff, 0xff]), valueHash: valueHash(utf8('x')) }] };
    t.notOk(verifyProof(root, key, value, injected), 'injected entry');
    // truncated: fewer siblings, or a wrong depth
    t.notOk(verifyProof(root, key, value, { ...p, siblings: p.siblings.slice(0, -1) }), 'truncated siblings');
    t.notOk(verifyProof(root, key, value, { ...p, bucketBits: p.bucketBits - 1, siblings: p.siblings.slice(0, -1) }), 'shallower claim');
    t.notOk(verifyProof(root, key, value, { ...p, bucketBits: p.bucketBits + 1, siblings: [...p.siblings, root] }), 'deeper claim');
    // truncated encoding does not decode
    const wire = encode(stateProofCodec, p);
    t.throws(() => decode(stateProofCodec, wire.subarray(0, wire.length - 1), 'proof'));
    // another key's proof (different or same bucket) does not prove this key
    for (let j = 50; j < 60; j++) {
      const q = await tree.prove(keys[j]!);
      const sameBucket = bucketOf(keys[j]!, 6) === bucketOf(key, 6);
      if (!sameBucket && verifyProof(root, key, value, q)) t.fail('another bucket’s proof accepted');
      if (sameBucket && !verifyProof(root, key, value, q)) t.fail('same bucket: the proof covers both keys');
      if (verifyProof(root, key, values[j]!, q)) t.fail('another key’s value accepted');
    }
    checked++;
  }
  t.equal(checked, 50);
});

t.test('deletes', async (t) => {
  const next = prng(99);
  const store = new MemoryKvStore();
  const tree = await AuthTree.open(store, { bucketBits: 5 });
  const keys = Array.from({ length: 100 }, () => randKey(next));
  const model = new Map<string, Uint8Array>();
  await commit(
    tree,
    store,
    keys.map((key, i) => {
      const value = utf8(`v${i}`);
      model.set(hexKey(key), value);
      return { key, value };
    }),
  );
  const before = tree.root;
  // deleting an absent key changes nothing
  await commit(tree, store, [{ key: utf8('absent-key-xyz'), value: undefined }]);
  t.equal(toHex(tree.root), toHex(before));
  const gone = keys.slice(0, 50);
  await commit(
    tree,
    store,
    gone.map((key) => ({ key, value: undefined })),
  );
  for (const k of gone) model.delete(hexKey(k));
  t.equal(toHex(tree.root), toHex(referenceRoot(model, 5)));
  for (let i = 0; i < 50; i++) {
    const p = await tree.prove(keys[i]!);
    if (!verifyProof(tree.root, keys[i]!, undefined, p)) t.fail('deleted key: non-inclusion');
    if (verifyProof(tree.root, keys[i]!, utf8(`v${i}`), p)) t.fail('deleted key still proven');
    const q = await tree.prove(keys[50 + i]!);
    if (!verifyProof(tree.root, keys[50 + i]!, utf8(`v${50 + i}`), q)) t.fail('kept key');
  }
  // deleting everything returns to the empty root and removes every bucket record
  await commit(
    tree,
    store,
    keys.slice(50).map((key) => ({ key, value: undefined })),
  );
  t.equal(toHex(tree.root), toHex(emptyRoot(5)));
  let records = 0;
  for await (const [k] of store.range(prefixRange(new Uint8Array([PREFIX.TREE, 0x01])))) {
    void k;
    records++;
  }
  t.equal(records, 0, 'no bucket records left');
});

t.test('duplicate keys in one change list: last wins', async (t) => {
  const store = new MemoryKvStore();
  const tree = await AuthTree.open(store);
  const k = utf8('dup');
  const s1 = await tree.stage([
    { key: k, value: utf8('a') },
    { key: k, value: utf8('b') },
  ]);
  const s2 = await tree.stage([{ key: k, value: utf8('b') }]);
  t.equal(toHex(s1.root), toHex(s2.root));
  const s3 = await tree.stage([
    { key: k, value: utf8('a') },
    { key: k, value: undefined },
  ]);
  t.equal(toHex(s3.root), toHex(EMPTY_ROOT));
  const s4 = await tree.stage([
    { key: k, value: undefined },
    { key: k, value: utf8('b') },
  ]);
  t.equal(toHex(s4.root), toHex(s2.root));
});

t.test('same root whatever the change order or block split', async (t) => {
  const next = prng(1234);
  const changes: StateChange[] = Array.from({ length: 400 }, () => ({ key: randKey(next), value: randBytes(next, 20) }));
  const roots = new Set<string>();
  for (let run = 0; run < 4; run++) {
    const store = new MemoryKvStore();
    const tree = await AuthTree.open(store, { bucketBits: 7 });
    const order = run === 0 ? changes : shuffle(next, changes);
    if (run === 3) {
      // in several blocks
      for (let i = 0; i < order.length; i += 37) await commit(tree, store, order.slice(i, i + 37));
    } else {
      await commit(tree, store, order);
    }
    roots.add(toHex(tree.root));
  }
  t.equal(roots.size, 1);
});

t.test('staging is pure; two stages at one height, one applied; stale apply throws', async (t) => {
  const store = new MemoryKvStore();
  const tree = await AuthTree.open(store);
  await commit(tree, store, [{ key: utf8('base'), value: utf8('0') }]);
  const base = tree.root;
  const a = await tree.stage([{ key: utf8('a'), value: utf8('1') }]);
  const b = await tree.stage([
    { key: utf8('b'), value: utf8('2') },
    { key: utf8('base'), value: undefined },
  ]);
  t.equal(toHex(tree.root), toHex(base), 'staging leaves the committed root alone');
  t.not(toHex(a.root), toHex(b.root));
  const pa = await tree.prove(utf8('a'));
  t.ok(verifyProof(base, utf8('a'), undefined, pa), 'proofs stay on the committed version');
  // apply before writing the ops is refused
  t.throws(() => b.apply(), InternalError);
  await store.batch(b.ops);
  // window: ops written, not applied yet → proofs are still against the committed root
  const pBase = await tree.prove(utf8('base'));
  t.ok(verifyProof(tree.root, utf8('base'), utf8('0'), pBase), 'proof in the write→apply window');
  b.apply();
  t.equal(toHex(tree.root), toHex(b.root));
  t.throws(() => a.apply(), InternalError, 'stale stage');
  try {
    a.apply();
  } catch (err) {
    t.ok(err instanceof InternalError);
  }
  t.ok(verifyProof(tree.root, utf8('b'), utf8('2'), await tree.prove(utf8('b'))));
  t.ok(verifyProof(tree.root, utf8('base'), undefined, await tree.prove(utf8('base'))));
  t.ok(verifyProof(tree.root, utf8('a'), undefined, await tree.prove(utf8('a'))));
  // staging from the new version works; a stage with no effect can be applied
  const c = await tree.stage([{ key: utf8('b'), value: utf8('2') }]);
  t.equal(toHex(c.root), toHex(b.root));
  await store.batch(c.ops);
  c.apply();
  t.equal(toHex(tree.root), toHex(b.root));
});

t.test('keys in one bucket and neighbouring keys', async (t) => {
  const store = new MemoryKvStore();
  const tree = await AuthTree.open(store); // 16 bits
  // grind keys that share a bucket with 'anchor'
  const anchor = utf8('anchor');
  const target = bucketOf(anchor, 16);
  const same: Uint8Array[] = [anchor];
  for (let i = 0; same.length < 4; i++) {
    const k = utf8(`k${i}`);
    if (bucketOf(k, 16) === target) same.push(k);
  }
  const neighbours = [
    new Uint8Array(0),
    new Uint8Array([0]),
    utf8('anchor\0'),
    utf8('ancho'),
    utf8('anchos'),
    utf8('anchoq'),
    concatBytes(anchor, new Uint8Array([0xff])),
  ];
  const present = [...same, ...neighbours.slice(0, 3)];
  await commit(
    tree,
    store,
    present.map((key) => ({ key, value: key })),
  );
  const p = await tree.prove(anchor);
  t.equal(p.entries.length, 4, 'the bucket holds all four keys');
  for (const k of present) t.ok(verifyProof(tree.root, k, k, await tree.prove(k)), `present ${toHex(k)}`);
  for (const k of neighbours.slice(3)) t.ok(verifyProof(tree.root, k, undefined, await tree.prove(k)), `absent ${toHex(k)}`);
  // absent key that falls in the crowded bucket
  let absent: Uint8Array | undefined;
  for (let i = 0; absent === undefined; i++) {
    const k = utf8(`x${i}`);
    if (bucketOf(k, 16) === target) absent = k;
  }
  const pa = await tree.prove(absent);
  t.equal(pa.entries.length, 4);
  t.ok(verifyProof(tree.root, absent, undefined, pa));
  t.notOk(verifyProof(tree.root, absent, absent, pa));
  // a present key's proof is also a valid non-inclusion proof for an absent key in that bucket
  t.ok(verifyProof(tree.root, absent, undefined, p));
  // update one key of the bucket, delete another: the rest stay provable
  await commit(tree, store, [
    { key: same[1]!, value: utf8('new') },
    { key: same[2]!, value: undefined },
  ]);
  t.ok(verifyProof(tree.root, same[1]!, utf8('new'), await tree.prove(same[1]!)));
  t.ok(verifyProof(tree.root, same[2]!, undefined, await tree.prove(same[2]!)));
  t.ok(verifyProof(tree.root, same[3]!, same[3]!, await tree.prove(same[3]!)));
  t.ok(verifyProof(tree.root, anchor, anchor, await tree.prove(anchor)));
});

t.test('restart: reopen on LevelDB gives the same root and proofs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-authtree-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const next = prng(4242);
  const model = new Map<string, Uint8Array>();
  let store = await LevelKvStore.open(dir);
  let tree = await AuthTree.open(store, { bucketBits: 10 });
  for (let block = 0; block < 5; block++) {
    const changes: StateChange[] = [];
    for (let i = 0; i < 300; i++) {
      const existing = [...model.keys()];
      if (existing.length > 0 && next() % 5 === 0) {
        const kh = existing[next() % existing.length]!;
        changes.push({ key: new Uint8Array(Buffer.from(kh, 'hex')), value: undefined });
        model.delete(kh);
      } else {
        const key = randKey(next);
        const value = randBytes(next, 100);
        changes.push({ key, value });
        model.set(hexKey(key), value);
      }
    }
    await commit(tree, store, changes);
  }
  const root = tree.root;
  const sample = [...model.entries()].slice(0, 50);
  const proofs = await Promise.all(sample.map(([kh]) => tree.prove(new Uint8Array(Buffer.from(kh, 'hex')))));
  // a staged-but-unwritten version must not survive a restart
  await tree.stage([{ key: utf8('lost'), value: utf8('x') }]);
  await store.close();

  store = await LevelKvStore.open(dir);
  tree = await AuthTree.open(store); // bucketBits comes from the store
  t.equal(tree.bucketBits, 10);
  t.equal(toHex(tree.root), toHex(root));
  t.equal(toHex(root), toHex(referenceRoot(model, 10)));
  for (let i = 0; i < sample.length; i++) {
    const [kh, v] = sample[i]!;
    const key = new Uint8Array(Buffer.from(kh, 'hex'));
    const again = await tree.prove(key);
    t.same(encode(stateProofCodec, again), encode(stateProofCodec, proofs[i]!));
    if (!verifyProof(tree.root, key, v, again)) t.fail('proof after restart');
  }
  await t.rejects(AuthTree.open(store, { bucketBits: 12 }), InternalError, 'bucketBits cannot change');
  // a corrupted bucket record is detected at open
  let victim: Uint8Array | undefined;
  for await (const [k] of store.range(prefixRange(new Uint8Array([PREFIX.TREE, 0x01])))) {
    victim = k;
    break;
  }
  await store.batch([{ type: 'put', key: victim!, value: new Uint8Array([0, 1, 2]) }]);
  await t.rejects(AuthTree.open(store), InternalError, 'corruption detected');
  await store.close();
});

t.test('verifyProof never throws on garbage', async (t) => {
  const store = new MemoryKvStore();
  const tree = await AuthTree.open(store, { bucketBits: 1 });
  await commit(
    tree,
    store,
    ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k, i) => ({ key: utf8(k), value: utf8(String(i + 1)) })),
  );
  const good = await tree.prove(utf8('a'));
  t.ok(good.entries.length >= 2, 'a bucket with neighbours');
  const root = tree.root;
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error('boom');
      },
    },
  );
  const garbage: unknown[] = [
    null,
    undefined,
    0,
    NaN,
    'proof',
    [],
    {},
    hostile,
    { bucketBits: 1 },
    { bucketBits: 1, entries: null, siblings: [] },
    { bucketBits: 1, entries: [], siblings: null },
    { bucketBits: 1.5, entries: [], siblings: [] },
    { bucketBits: -1, entries: [], siblings: [] },
    { bucketBits: 1e9, entries: [], siblings: [] },
    { bucketBits: '3', entries: [], siblings: good.siblings },
    { bucketBits: 1, entries: [null], siblings: good.siblings },
    { bucketBits: 1, entries: [{ key: 'a', valueHash: new Uint8Array(32) }], siblings: good.siblings },
    { bucketBits: 1, entries: [{ key: utf8('a'), valueHash: new Uint8Array(31) }], siblings: good.siblings },
    { bucketBits: 1, entries: good.entries, siblings: [1] },
    { bucketBits: 1, entries: good.entries, siblings: [hostile] },
    { bucketBits: 1, entries: [hostile], siblings: good.siblings },
    { bucketBits: 1, entries: [...good.entries, ...good.entries], siblings: good.siblings },
    { ...good, entries: [...good.entries].reverse() },
  ];
  const roots: unknown[] = [root, null, new Uint8Array(31), 'root', hostile];
  const keys: unknown[] = [utf8('a'), null, 'a', new Uint8Array(5000), hostile];
  const values: unknown[] = [utf8('1'), undefined, null, '1', hostile];
  let calls = 0;
  for (const p of garbage)
    for (const r of roots)
      for (const k of keys)
        for (const v of values) {
          let out: unknown;
          try {
            out = verifyProof(r as Uint8Array, k as Uint8Array, v as Uint8Array | undefined, p as StateProof);
          } catch (err) {
            t.fail(`threw: ${String(err)}`);
          }
          if (out !== false) t.fail(`garbage accepted: proof #${garbage.indexOf(p)} root #${roots.indexOf(r)} key #${keys.indexOf(k)} value #${values.indexOf(v)}`);
          calls++;
        }
  t.ok(calls > 1000);
  // random byte flips in the wire form: either undecodable or rejected
  const next = prng(31337);
  const wire = encode(stateProofCodec, good);
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const m = Uint8Array.from(wire);
    m[next() % m.length]! ^= 1 << next() % 8;
    let p: StateProof;
    try {
      p = decode(stateProofCodec, m, 'proof');
    } catch {
      continue;
    }
    if (verifyProof(root, utf8('a'), utf8('1'), p)) accepted++;
  }
  t.equal(accepted, 0);
  t.ok(verifyProof(root, utf8('a'), utf8('1'), good), 'the untouched proof still verifies');
});

t.test('cross-check: incremental root equals a from-scratch rebuild after random updates and deletes', async (t) => {
  const next = prng(0xdecade);
  for (const bits of [2, 9, 16]) {
    const store = new MemoryKvStore();
    const tree = await AuthTree.open(store, { bucketBits: bits });
    const model = new Map<string, Uint8Array>();
    const pool: Uint8Array[] = Array.from({ length: 300 }, () => randKey(next));
    for (let block = 0; block < 25; block++) {
      const changes: StateChange[] = [];
      const n = next() % 80;
      for (let i = 0; i < n; i++) {
        const key = pool[next() % pool.length]!;
        if (next() % 3 === 0) {
          changes.push({ key, value: undefined });
          model.delete(hexKey(key));
        } else {
          const value = randBytes(next, next() % 64);
          changes.push({ key, value });
          model.set(hexKey(key), value);
        }
      }
      await commit(tree, store, changes);
    }
    const fresh = new MemoryKvStore();
    const rebuilt = await AuthTree.open(fresh, { bucketBits: bits });
    await commit(
      rebuilt,
      fresh,
      [...model].map(([kh, value]) => ({ key: new Uint8Array(Buffer.from(kh, 'hex')), value })),
    );
    t.equal(toHex(tree.root), toHex(rebuilt.root), `bits ${bits}: incremental = rebuild`);
    t.equal(toHex(tree.root), toHex(referenceRoot(model, bits)), `bits ${bits}: = reference formulas`);
    const reopened = await AuthTree.open(store);
    t.equal(toHex(reopened.root), toHex(tree.root), `bits ${bits}: = reopen`);
  }
});

t.test('bad input to stage and prove', async (t) => {
  const store = new MemoryKvStore();
  const tree = await AuthTree.open(store);
  await t.rejects(tree.stage([{ key: new Uint8Array(1025), value: utf8('x') }]), InternalError);
  await t.rejects(tree.stage([{ key: 'k' as unknown as Uint8Array, value: utf8('x') }]), InternalError);
  await t.rejects(tree.stage([{ key: utf8('k'), value: 'v' as unknown as Uint8Array }]), InternalError);
  await t.rejects(tree.prove(new Uint8Array(1025)));
  await t.rejects(AuthTree.open(store, { bucketBits: 0 }), InternalError);
  await t.rejects(AuthTree.open(store, { bucketBits: 21 }), InternalError);
});
