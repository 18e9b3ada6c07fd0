import t from 'tap';
import { decode, decodeTrusted, encode, struct, u53, amount, bytes20 } from '../../../lib/encoding.js';

const codec = struct<{ a: bigint; n: number; to: Uint8Array }>({ a: amount, n: u53, to: bytes20 }, ['a', 'n', 'to']);

t.test('decodeTrusted gives what decode gives on canonical bytes', async (t) => {
  const v = { a: 10n ** 20n, n: 2 ** 40, to: new Uint8Array(20).fill(9) };
  const bytes = encode(codec, v);
  t.same(decodeTrusted(codec, bytes), decode(codec, bytes));
});

t.test('decodeTrusted refuses garbage, truncation, trailing bytes and schema mismatches', async (t) => {
  const good = encode(codec, { a: 5n, n: 1, to: new Uint8Array(20) });
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array()],
    ['reserved byte', Uint8Array.from([0xc1])],
    ['truncated', good.subarray(0, good.length - 1)],
    ['trailing byte', Uint8Array.from([...good, 0])],
    ['wrong arity', encode(struct<{ n: number }>({ n: u53 }, ['n']), { n: 1 })],
    ['wrong field type', Uint8Array.from([0x93, 0x01, 0x01, 0xc4, 0x00])],
  ];
  for (const [what, bytes] of cases) t.throws(() => decodeTrusted(codec, bytes, 'row'), { code: 'ENCODING_INVALID' }, what);
});

t.test('unlike decode, decodeTrusted does not re-check canonical form (state rows only)', async (t) => {
  const nonMinimal = Uint8Array.from([0xcd, 0x00, 0x05]); // 5 as uint16
  t.throws(() => decode(u53, nonMinimal), { code: 'ENCODING_INVALID' });
  t.equal(decodeTrusted(u53, nonMinimal), 5);
});
