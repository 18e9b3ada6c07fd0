// The direct readers of byte-string lists (lib/encoding.ts readBytesList, used by decodeTxBatch and
// decodeBlock) must accept exactly what the codecs accept, with the same values: these decode
// network input that is hashed and signed, where one value must have one encoding.
import t from 'tap';
import { list, bytes, encode, decode, readBytesList, skipScalars } from '../../../lib/encoding.js';
import { decodeBlock, encodeBlock, blockCodec, MAX_BLOCK_BYTES, type Block } from '../../../state/block.js';
import { decodeTxBatch, encodeTxBatch, maxBatchBytes } from '../../../node/txBatch.js';
import { toHex } from '../../../lib/hex.js';
import { prng, randInt, randBytes } from '../../utils/prng.js';

/** seeded integers and bytes (test/utils/prng.ts) */
function rng(seed: number) {
  const rand = prng(seed);
  return { int: (n: number) => randInt(rand, n), bytes: (n: number) => randBytes(rand, n) };
}

type Outcome = { ok: true; value: string } | { ok: false };
const outcome = (f: () => unknown, show: (v: never) => string): Outcome => {
  try {
    return { ok: true, value: show(f() as never) };
  } catch {
    return { ok: false };
  }
};
const showList = (v: Uint8Array[]): string => v.map(toHex).join(',');
const showBlock = (b: Block): string => JSON.stringify({ ...b.header, txs: b.txs.map(toHex) }, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));

/** Mutations of a valid encoding: byte flips, truncations, insertions, deletions, widened headers. */
function mutants(good: Uint8Array, r: ReturnType<typeof rng>, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const b = Uint8Array.from(good);
    const at = r.int(b.length);
    switch (i % 5) {
      case 0:
        b[at] = r.int(256);
        out.push(b);
        break;
      case 1:
        out.push(b.subarray(0, at));
        break;
      case 2:
        out.push(Uint8Array.from([...b.subarray(0, at), r.int(256), ...b.subarray(at)]));
        break;
      case 3:
        out.push(Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]));
        break;
      default:
        b[at] = [0xc4, 0xc5, 0xc6, 0xdc, 0xdd, 0x90, 0x9f, 0x00, 0xff][r.int(9)]!;
        out.push(b);
    }
  }
  return out;
}

t.test('readBytesList agrees with decode(list(bytes)) on valid, mutated and non-minimal lists', async (t) => {
  const r = rng(0xb175);
  const maxItems = 40;
  const maxItemBytes = 300;
  const codec = list(bytes(maxItemBytes), maxItems);
  const direct = (data: Uint8Array): Uint8Array[] => {
    const got = readBytesList(data, 0, maxItems, maxItemBytes);
    if (got === undefined || got[1] !== data.length) throw new Error('not read');
    return got[0];
  };
  let accepted = 0;
  let compared = 0;
  const check = (data: Uint8Array, what: string): void => {
    compared++;
    const a = outcome(() => direct(data), showList);
    const b = outcome(() => decode(codec, data), showList);
    // the direct reader may leave a canonical input to the codec, never accept what the codec refuses
    if (a.ok && (!b.ok || a.value !== b.value)) t.fail(`${what}: direct ${JSON.stringify(a)}, codec ${JSON.stringify(b)}`);
    if (b.ok && !a.ok) t.fail(`${what}: canonical input not read directly`);
    if (a.ok) accepted++;
  };
  for (let i = 0; i < 300; i++) {
    const n = [0, 1, 15, 16, 17, 39, 40][i % 7]!;
    const items = Array.from({ length: n }, () => r.bytes([0, 1, 255, 256, 300, r.int(300)][r.int(6)]!));
    const good = encode(codec, items);
    check(good, `valid list ${i}`);
    for (const [k, m] of mutants(good, r, 10).entries()) check(m, `list ${i} mutant ${k}`);
  }
  // non-minimal and over-limit forms, built by hand
  check(Uint8Array.from([0xdc, 0, 1, 0xc4, 1, 7]), 'array16 for 1 item');
  check(Uint8Array.from([0xdd, 0, 0, 0, 1, 0xc4, 1, 7]), 'array32 for 1 item');
  check(Uint8Array.from([0x91, 0xc5, 0, 1, 7]), 'bin16 for 1 byte');
  check(Uint8Array.from([0x91, 0xc6, 0, 0, 0, 1, 7]), 'bin32 for 1 byte');
  check(Uint8Array.from([0x91, 0xc4, 2, 7]), 'item longer than the input');
  check(Uint8Array.from([0x91, 0xa1, 0x41]), 'a string item');
  check(Uint8Array.from([0xdc, 0, 41, ...Array.from({ length: 41 }, () => [0xc4, 0]).flat()]), 'more than maxItems');
  check(Uint8Array.from([0x91, 0xc5, 1, 45, ...new Uint8Array(301)]), 'an item over maxItemBytes');
  check(Uint8Array.from([0x91, 0xc4, 0, 0x00]), 'a trailing byte');
  check(new Uint8Array(0), 'empty input');
  t.ok(accepted >= 300, `${accepted} of ${compared} inputs accepted by both`);
  const buf = Buffer.from([0x92, 0xc4, 1, 9, 0xc4, 0]);
  const [items] = readBytesList(buf, 0, 4, 4)!;
  t.equal(Object.getPrototypeOf(items[0]), Uint8Array.prototype, 'items are plain Uint8Array views, also from a Buffer');
  t.same([...items[0]!], [9]);
  t.equal(items[0]!.buffer, buf.buffer, 'a view, not a copy');
});

t.test('skipScalars finds the end of header-like values and refuses other kinds', async (t) => {
  t.equal(skipScalars(Uint8Array.from([0x05, 0xa2, 0x41, 0x42, 0xcc, 0x80, 0xcf, 0, 0, 0, 0, 0, 0, 0, 1, 0xc4, 1, 9]), 0, 5), 18);
  t.equal(skipScalars(Uint8Array.from([0xc4, 3, 1]), 0, 1), undefined, 'truncated bin8');
  t.equal(skipScalars(Uint8Array.from([0x91, 0x01]), 0, 1), undefined, 'an array is not a scalar');
  t.equal(skipScalars(Uint8Array.from([0x01]), 0, 2), undefined, 'fewer values than asked');
});

function block(r: ReturnType<typeof rng>, txs: number): Block {
  return {
    header: {
      chainId: 'bytes-list-test',
      height: 1 + r.int(1_000_000),
      time: 1_700_000_000_000 + r.int(1_000_000),
      prevHash: r.bytes(32),
      txRoot: r.bytes(32),
      stateRoot: r.bytes(32),
      resultsRoot: r.bytes(32),
      proposer: r.bytes(20),
      validatorSetHash: r.bytes(32),
    },
    txs: Array.from({ length: txs }, () => r.bytes(1 + r.int(400))),
  };
}

t.test('decodeBlock agrees with the block codec on valid and mutated blocks', async (t) => {
  const r = rng(0xb10c);
  let direct = 0;
  for (let i = 0; i < 120; i++) {
    const b = block(r, [0, 1, 16, 200][i % 4]!);
    const good = encodeBlock(b);
    t.equal(showBlock(decodeBlock(good)), showBlock(b), `block ${i} round trip`);
    for (const [k, m] of mutants(good, r, 12).entries()) {
      const a = outcome(() => decodeBlock(m), showBlock);
      const c = outcome(() => decode(blockCodec, m, 'block', MAX_BLOCK_BYTES), showBlock);
      if (a.ok !== c.ok || (a.ok && c.ok && a.value !== c.value)) t.fail(`block ${i} mutant ${k}: decodeBlock ${JSON.stringify(a)}, codec ${JSON.stringify(c)}`);
      if (a.ok) direct++;
    }
  }
  t.pass(`every mutant decided alike (${direct} accepted by both)`);
  // a header the header codec refuses inside an otherwise well-formed block: the block codec's error
  const b = block(r, 2);
  const bad = encodeBlock(b);
  bad[3] = 0x20; // a chain id character outside the allowed set
  t.throws(() => decodeBlock(bad), { message: /^block/ }, 'refused with the block codec message');
});

t.test('decodeTxBatch agrees with the batch codec, and still copies each tx out of the message', async (t) => {
  const r = rng(0x7b);
  const limits = { maxTxBytes: 500, maxTxs: 64, maxBytes: 16_000 };
  const codec = list(bytes(limits.maxTxBytes), limits.maxTxs);
  for (let i = 0; i < 100; i++) {
    const txs = Array.from({ length: 1 + r.int(30) }, () => r.bytes(1 + r.int(500))); // within maxBytes
    const good = encodeTxBatch(txs, limits);
    const got = decodeTxBatch(good, limits);
    t.equal(showList(got), showList(txs));
    if (got.some((x) => x.buffer === good.buffer)) t.fail('a tx still views the message');
    for (const [k, m] of mutants(good, r, 10).entries()) {
      const a = outcome(() => decodeTxBatch(m, limits), showList);
      const c = outcome(() => {
        const v = decode(codec, m, 'tx batch', maxBatchBytes(limits));
        if (v.length === 0 || v.some((x) => x.length === 0)) throw new Error('refused');
        return v;
      }, showList);
      if (a.ok !== c.ok || (a.ok && c.ok && a.value !== c.value)) t.fail(`batch ${i} mutant ${k}: ${JSON.stringify(a)} vs ${JSON.stringify(c)}`);
    }
  }
  t.pass('every mutant decided alike');
});
