// bytesKey and its inverse keyBytes, and toHex (lib/hex.ts): keys byte-keyed maps on the hot path (overlay, decoded txs, key objects,
// accounts): it must be exactly the latin1 string of the bytes a view covers — not of its whole
// buffer — and distinct bytes must give distinct keys.
import t from 'tap';
import { bytesKey, keyBytes, toHex, fromHex } from '../../../lib/hex.js';
import { prng, randInt } from '../../utils/prng.js';

t.test('equals Buffer latin1 of exactly the viewed bytes; injective on a seeded sample', async (t) => {
  const rand = prng(0xb7e5);
  const seen = new Map<string, string>();
  let bad = 0;
  for (let i = 0; i < 3000; i++) {
    const whole = Uint8Array.from({ length: 2 + randInt(rand, 60) }, () => randInt(rand, 256));
    const start = randInt(rand, whole.length);
    const view = whole.subarray(start, start + randInt(rand, whole.length - start + 1));
    const key = bytesKey(view);
    if (key !== Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('latin1') || key.length !== view.length) bad++;
    const hex = Buffer.from(view).toString('hex');
    if (seen.has(key) && seen.get(key) !== hex) bad++;
    seen.set(key, hex);
  }
  t.equal(bad, 0);
  t.equal(bytesKey(new Uint8Array(0)), '');
  t.equal(bytesKey(Uint8Array.of(0, 255, 128)), '\u0000\u00ff\u0080');
});

t.test('keyBytes inverts bytesKey for every byte value and length', async (t) => {
  const all = new Uint8Array(256).map((_, i) => i);
  t.same(keyBytes(bytesKey(all)), all, 'all 256 byte values');
  t.same(keyBytes(bytesKey(new Uint8Array(0))), new Uint8Array(0), 'empty');
  const buf = Buffer.from('00ff7f80', 'hex');
  const back = keyBytes(bytesKey(buf.subarray(1, 3)));
  t.same([...back], [0xff, 0x7f], 'a view at an offset');
  t.equal(Object.getPrototypeOf(back), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
});

t.test('toHex is the 0x-hex of exactly the viewed bytes (views, Buffers, empty)', async (t) => {
  const rand = prng(0x70e5);
  let bad = 0;
  for (let i = 0; i < 2000; i++) {
    const whole = Uint8Array.from({ length: 1 + randInt(rand, 80) }, () => randInt(rand, 256));
    const start = randInt(rand, whole.length);
    const view = whole.subarray(start, start + randInt(rand, whole.length - start + 1));
    if (toHex(view) !== '0x' + Buffer.from(view).toString('hex')) bad++;
  }
  t.equal(bad, 0);
  t.equal(toHex(new Uint8Array(0)), '0x');
  t.equal(toHex(Buffer.from('00ff7f80', 'hex').subarray(1, 3)), '0xff7f');
  t.same(fromHex(toHex(Uint8Array.of(0, 1, 254, 255))), Uint8Array.of(0, 1, 254, 255));
});
