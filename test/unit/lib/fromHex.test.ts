// fromHex accepts exactly what /^0x([0-9a-fA-F]{2})*$/ accepts (it no longer runs that expression):
// RPC params, key files and configs all go through it.
import t from 'tap';
import { fromHex } from '../../../lib/hex.js';
import { ERR } from '../../../lib/errors.js';
import { prng, randInt } from '../../utils/prng.js';

const RE = /^0x([0-9a-fA-F]{2})*$/;

t.test('fromHex agrees with the hex expression on valid, mutated and odd strings (seeded)', async (t) => {
  const rand = prng(0x4e3);
  const rnd = (n: number): number => randInt(rand, n);
  const alphabet = '0123456789abcdefABCDEFxXgG ０-\u00e9\u0000';
  const cases: string[] = ['', '0', '0x', '0x0', '0X00', 'x0', '00', '0x00', '0xzz', '0x 0', '0x0g', '0xg0', '0x00\n', ' 0x00', '0x-1', '0x\u0000\u0000'];
  for (let i = 0; i < 3000; i++) {
    const len = rnd(12);
    let s = rnd(5) === 0 ? '' : '0x';
    for (let j = 0; j < len; j++) s += rnd(4) === 0 ? alphabet[rnd(alphabet.length)] : '0123456789abcdefABCDEF'[rnd(22)];
    cases.push(s);
  }
  let accepted = 0;
  for (const s of cases) {
    const want = RE.test(s);
    let got: Uint8Array | undefined;
    try {
      got = fromHex(s, 'v');
    } catch (e) {
      if ((e as { code?: string }).code !== ERR.ENCODING) t.fail(`${JSON.stringify(s)}: ${String(e)}`);
    }
    if ((got !== undefined) !== want) t.fail(`${JSON.stringify(s)}: expression says ${want}, fromHex ${got !== undefined}`);
    if (got !== undefined) {
      accepted++;
      if (Buffer.from(got).toString('hex') !== s.slice(2).toLowerCase()) t.fail(`${JSON.stringify(s)}: wrong bytes`);
    }
  }
  t.ok(accepted > 300, `${accepted} of ${cases.length} accepted, each with the right bytes`);
  t.throws(() => fromHex(42 as unknown as string, 'v'), { code: ERR.ENCODING }, 'not a string');
  t.throws(() => fromHex('0x0011', 'v', 3), { code: ERR.ENCODING, message: /must be 3 bytes, got 2/ });
});
