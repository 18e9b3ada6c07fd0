import t from 'tap';
import { Packr } from 'msgpackr';
import { encode, decode, u53, u8, amount, bytes, str, list, tuple, struct, optional, bool, amountToBytes, amountFromBytes } from '../../../lib/encoding.js';
import { InvalidMessageError } from '../../../lib/errors.js';
import { prng, randInt } from '../../utils/prng.js';

const raw = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const looseEncode = (v: unknown) => new Uint8Array(new Packr({ useRecords: false }).pack(v));

t.test('integers: minimal forms below 2^32, int64 from 2^32, one encoding each', async (t) => {
  for (const v of [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
    t.equal(decode(u53, encode(u53, v)), v, `round-trip ${v}`);
  }
  t.throws(() => decode(u53, raw('cd0005')), InvalidMessageError, 'non-minimal uint16 for 5 is rejected');
  t.throws(() => decode(u53, raw('d30000000000000005')), /non-canonical/, '5 as int64 is rejected');
  t.throws(() => decode(u53, raw('cb4014000000000000')), InvalidMessageError, 'float 5.0 is rejected');
  t.throws(() => decode(u53, raw('ff')), /non-negative/, 'negative rejected');
  t.throws(() => decode(u53, raw('d30020000000000000')), /out of range/, '2^53 rejected');
  t.throws(() => encode(u53, 1.5), RangeError);
  t.throws(() => decode(u8, encode(u53, 256)), /above maximum/);
});

t.test('amounts are minimal big-endian bytes of any size up to 2^256-1', async (t) => {
  for (const v of [0n, 1n, 255n, 256n, 2n ** 64n, 2n ** 200n + 7n, 2n ** 256n - 1n]) t.equal(decode(amount, encode(amount, v)), v);
  t.same(amountToBytes(0n), new Uint8Array());
  t.throws(() => decode(amount, encode(bytes(40), raw('0001'))), /leading zero/);
  t.throws(() => encode(amount, 2n ** 256n), RangeError);
  t.throws(() => encode(amount, -1n), RangeError);
  t.equal(amount.fromJson('1000000000000000000000', 'a'), 10n ** 21n);
  t.throws(() => amount.fromJson('01', 'a'), /decimal/);
  t.throws(() => amount.fromJson('-5', 'a'), /decimal/);
});

t.test('amount bytes agree with the hex reference at every length and around every limb boundary', async (t) => {
  // the fast paths (below 2^128 when writing, up to 12 bytes when reading) against the plain hex form
  const hexBytes = (v: bigint): Uint8Array => {
    let h = v.toString(16);
    if (h.length % 2) h = '0' + h;
    return new Uint8Array(Buffer.from(h, 'hex'));
  };
  const values: bigint[] = [1n, 0xffn, 0x100n, 10n ** 20n, 10n ** 18n + 12345n];
  for (let bits = 1; bits <= 256; bits++) {
    const p = 1n << BigInt(bits);
    values.push(p - 1n, p >> 1n, (p >> 1n) + 1n);
  }
  const rand = prng(0x1234_5678);
  for (let i = 0; i < 500; i++) {
    const len = 1 + randInt(rand, 32);
    let v = 0n;
    for (let j = 0; j < len; j++) v = (v << 8n) | BigInt(randInt(rand, 256));
    if (v > 0n) values.push(v);
  }
  let bad = 0;
  for (const v of values) {
    if (v >= 2n ** 256n) continue;
    const b = amountToBytes(v);
    if (Buffer.compare(b, hexBytes(v)) !== 0 || amountFromBytes(b) !== v || amountFromBytes(b.subarray(0)) !== v) {
      bad++;
      t.fail(`amount ${v}: ${Buffer.from(b).toString('hex')} against ${Buffer.from(hexBytes(v)).toString('hex')}`);
    }
  }
  t.equal(bad, 0, `${values.length} values round-trip byte for byte`);
  const padded = new Uint8Array([9, 9, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 9]);
  t.equal(amountFromBytes(padded.subarray(2, 11)), 0x010203040506070809n, 'a view at an offset reads only its own bytes');
  t.throws(() => amountFromBytes(new Uint8Array([0, 1])), /leading zero/);
});

t.test('strings reject invalid UTF-8 and oversize; bytes enforce limits', async (t) => {
  t.equal(decode(str(10), encode(str(10), 'hé')), 'hé');
  t.throws(() => decode(str(10), raw('a3c3a9ff')), /non-canonical/, 'invalid UTF-8 does not round-trip');
  t.throws(() => decode(str(2), encode(str(10), 'abc')), /too long/);
  t.throws(() => decode(bytes(2), encode(bytes(3), raw('010203'))), /too long/);
  t.throws(() => decode(bytes(2, true), encode(bytes(3), raw('01'))), /exactly/);
});

t.test('tuples, structs, lists, optionals; maps and trailing bytes rejected', async (t) => {
  const c = struct<{ a: number; b: Uint8Array; c: string | undefined; d: boolean[] }>(
    { a: u53, b: bytes(4), c: optional(str(8)), d: list(bool, 3) },
    ['a', 'b', 'c', 'd'],
  );
  const v = { a: 7, b: raw('abcd'), c: undefined, d: [true, false] };
  const enc = encode(c, v);
  t.same(decode(c, enc), v);
  t.throws(() => decode(c, looseEncode({ a: 7, b: raw('abcd'), c: null, d: [] })), /expected a tuple/, 'a map is not a tuple');
  t.throws(() => decode(c, new Uint8Array([...enc, 0])), /not valid msgpack|non-canonical/, 'trailing byte');
  t.throws(() => decode(c, enc.subarray(0, enc.length - 1)), /not valid msgpack/, 'truncated');
  t.throws(() => decode(tuple<[number, number]>(u53, u53), encode(tuple<[number]>(u53), [1])), /expected 2 fields/);
  t.throws(() => decode(list(u53, 2), encode(list(u53, 5), [1, 2, 3])), /list too long/);
  t.throws(() => decode(c, new Uint8Array(100), 'x', 10), /exceeds the limit/);
  t.same(c.fromJson({ a: 1, b: '0x01', c: null, d: [] }, 'j'), { a: 1, b: raw('01'), c: undefined, d: [] });
  t.throws(() => c.fromJson({ a: 1, b: '0x01', d: [], extra: 1 }, 'j'), /unknown field "extra"/);
  t.throws(() => c.fromJson({ a: 1, b: '01', d: [] }, 'j'), /0x-prefixed/);
});

t.test('minimalUint writes what encode writes for a u53 below 2^32; readMinimalUint reads only that form', async (t) => {
  const { minimalUint, readMinimalUint, encode: enc, u53: U53 } = await import('../../../lib/encoding.js');
  for (const v of [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32 - 1]) {
    const bytes = Uint8Array.from(minimalUint(v));
    t.same(Buffer.from(bytes), Buffer.from(enc(U53, v)), `${v}: byte-equal to encode(u53)`);
    t.same(readMinimalUint(bytes, 0, 2 ** 32 - 1), [v, bytes.length], `${v}: read back`);
    t.equal(readMinimalUint(bytes.subarray(0, bytes.length - 1), 0, 2 ** 32 - 1), undefined, `${v}: truncated`);
  }
  t.equal(readMinimalUint(Uint8Array.of(0xcc, 0x05), 0, 255), undefined, 'a non-minimal uint8 form');
  t.equal(readMinimalUint(Uint8Array.of(0xcd, 0x00, 0xff), 0, 0xffff), undefined, 'a non-minimal uint16 form');
  t.equal(readMinimalUint(Uint8Array.of(0xcd, 0x01, 0x00), 0, 0xff), undefined, 'above max');
  t.equal(readMinimalUint(Uint8Array.of(0xd0, 0x01), 0, 0xff), undefined, 'another type');
  t.throws(() => minimalUint(2 ** 32), RangeError);
  t.throws(() => minimalUint(-1), RangeError);
});
