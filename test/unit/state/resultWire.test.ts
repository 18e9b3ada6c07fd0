// state/resultWire.ts writes tx results directly; its bytes must equal the generic codec's
// (encode(txResultCodec, r)) for every result, and what the codec refuses must still be refused.
import t from 'tap';
import { encodeTxResults, encodeTxResultsList, txResultCodec, txResultsCodec, type TxEvent, type TxResult } from '../../../state/block.js';
import { encode, decode } from '../../../lib/encoding.js';
import { bytesEqual, toHex } from '../../../lib/hex.js';
import { prng, randInt } from '../../utils/prng.js';

const rand = prng(0x7e5017);
const ascii = (n: number): string => String.fromCharCode(...Array.from({ length: n }, () => randInt(rand, 0x80)));
const nonAscii = ['é', 'ü', '€', '漢', '😀', '\u0080', '\u07ff', '\uffff'];
/** A length near one of msgpack's str header edges (31/32, 255/256) or anywhere up to `max`. */
function len(max: number): number {
  const edges = [0, 1, 31, 32, 255, 256, max - 1, max].filter((n) => n >= 0 && n <= max);
  return rand() < 0.5 ? edges[randInt(rand, edges.length)]! : randInt(rand, max + 1);
}
function text(max: number, unicode: boolean): string {
  const s = ascii(len(max));
  if (!unicode || s.length === 0) return s;
  const i = randInt(rand, s.length);
  const u = nonAscii[randInt(rand, nonAscii.length)]!;
  // keep within max bytes: replace one char by a multi-byte one only where the budget allows
  return Buffer.byteLength(s) - 1 + Buffer.byteLength(u) <= max ? s.slice(0, i) + u + s.slice(i + 1) : s;
}
function count(max: number): number {
  const edges = [0, 1, 15, 16, max];
  return rand() < 0.4 ? edges[randInt(rand, edges.length)]! : randInt(rand, Math.min(max, 6) + 1);
}
function randomResult(unicode: boolean): TxResult {
  const events: TxEvent[] = Array.from({ length: count(rand() < 0.1 ? 64 : 3) }, () => ({
    module: text(32, unicode && rand() < 0.2),
    type: text(64, unicode && rand() < 0.2),
    attributes: Array.from({ length: count(rand() < 0.1 ? 32 : 4) }, () => [text(64, unicode && rand() < 0.1), text(rand() < 0.2 ? 1024 : 80, unicode && rand() < 0.1)] as [string, string]),
  }));
  return { code: text(64, unicode && rand() < 0.2), message: text(512, unicode && rand() < 0.2), events };
}

const transfer: TxResult = {
  code: '',
  message: '',
  events: [{ module: 'bank', type: 'transfer', attributes: [['from', toHex(new Uint8Array(20).fill(1))], ['to', toHex(new Uint8Array(20).fill(2))], ['amount', '1000']] }],
};

t.test('byte-equal to the generic encoder on random results, ASCII and not, at every header edge', async (t) => {
  let mismatches = 0;
  for (let round = 0; round < 60; round++) {
    const results = Array.from({ length: randInt(rand, 40) }, () => randomResult(rand() < 0.3));
    const fast = encodeTxResults(results);
    t.equal(fast.length, results.length);
    results.forEach((r, i) => {
      const generic = encode(txResultCodec, r);
      if (!bytesEqual(fast[i]!, generic)) mismatches++;
    });
    t.ok(bytesEqual(encodeTxResultsList(fast), encode(txResultsCodec, results)), 'the stored list as well');
  }
  t.equal(mismatches, 0);
});

t.test('the written bytes decode back to the result (and are canonical for the strict decoder)', async (t) => {
  const results = [transfer, ...Array.from({ length: 50 }, () => randomResult(false))];
  encodeTxResults(results).forEach((b, i) => t.same(decode(txResultCodec, b, 'result'), results[i]));
});

t.test('ASCII results are written directly, into one array for the block', async (t) => {
  const out = encodeTxResults([transfer, transfer, { code: 'BANK_INSUFFICIENT_FUNDS', message: 'x'.repeat(300), events: [] }]);
  t.equal(new Set(out.map((b) => b.buffer)).size, 1, 'views of one allocation');
  t.ok(bytesEqual(out[0]!, encode(txResultCodec, transfer)));
  // a non-ASCII string goes through the codec, in its own array, with the same bytes
  const uni: TxResult = { ...transfer, message: 'café' };
  const mixed = encodeTxResults([transfer, uni]);
  t.not(mixed[1]!.buffer, mixed[0]!.buffer);
  t.ok(bytesEqual(mixed[1]!, encode(txResultCodec, uni)));
});

t.test('what the codec refuses is still refused, with the codec error', async (t) => {
  const bad: [string, unknown][] = [
    ['code over 64 bytes', { ...transfer, code: 'c'.repeat(65) }],
    ['message over 512 bytes', { ...transfer, message: 'm'.repeat(513) }],
    ['message over 512 bytes in UTF-8', { ...transfer, message: 'é'.repeat(257) }],
    ['65 events', { ...transfer, events: Array.from({ length: 65 }, () => transfer.events[0]) }],
    ['module over 32 bytes', { ...transfer, events: [{ ...transfer.events[0], module: 'm'.repeat(33) }] }],
    ['33 attributes', { ...transfer, events: [{ ...transfer.events[0], attributes: Array.from({ length: 33 }, () => ['k', 'v']) }] }],
    ['value over 1024 bytes', { ...transfer, events: [{ ...transfer.events[0], attributes: [['k', 'v'.repeat(1025)]] }] }],
    ['a number for a string', { ...transfer, code: 7 }],
    ['an attribute of three strings', { ...transfer, events: [{ ...transfer.events[0], attributes: [['k', 'v', 'w']] }] }],
  ];
  for (const [what, r] of bad) {
    let generic: unknown;
    try {
      encode(txResultCodec, r as TxResult);
    } catch (e) {
      generic = e;
    }
    t.ok(generic instanceof Error, `${what}: the codec refuses it`);
    t.throws(() => encodeTxResults([transfer, r as TxResult]), { message: (generic as Error).message }, what);
  }
});
