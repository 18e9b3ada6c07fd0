// The direct reader of the canonical tx form (state/txWire.ts) must never be more permissive than
// the generic decoder and must return the same value: on every input it accepts, the generic
// decoder accepts too and gives a deep-equal value; on every input the generic decoder refuses, it
// returns undefined. Checked on boundary values of every field, hand-made non-canonical forms and
// seeded random mutations.
import t, { type Test } from 'tap';
import { readCanonicalTx } from '../../../state/txWire.js';
import { encodeTx, decodeTx, signedTxCodec, TX_VERSION, MAX_ARGS_BYTES, CHAIN_ID_RE, type SignedTx } from '../../../state/tx.js';
import { decode } from '../../../lib/encoding.js';
import { KeyType } from '../../../crypto/keys.js';
import { testKey } from '../../utils/chain.js';
import { prng, randInt } from '../../utils/prng.js';

const RULES = { version: TX_VERSION, maxArgsBytes: MAX_ARGS_BYTES, chainIdRe: CHAIN_ID_RE };
const k1 = testKey('wire-k1', KeyType.secp256k1);
const p256 = testKey('wire-p256', KeyType.p256);

function tx(over: Partial<SignedTx['body']> = {}): SignedTx {
  return {
    body: { version: TX_VERSION, chainId: 'iotchain-test', keyType: k1.type, publicKey: k1.publicKey, nonce: 7, moduleId: 1, methodId: 1, args: new Uint8Array([0x92, 1, 2]), fee: 10n, ...over },
    signature: new Uint8Array(64).fill(3),
  };
}

/** 'refused' or the decoded value, by the generic decoder. */
function generic(raw: Uint8Array): SignedTx | 'refused' {
  try {
    return decode(signedTxCodec, raw, 'tx', 64 * 1024);
  } catch {
    return 'refused';
  }
}

let fastAccepted = 0;
function agree(t: Test, raw: Uint8Array, what: string): void {
  const fast = readCanonicalTx(raw, RULES);
  const slow = generic(raw);
  if (fast === undefined) return; // the generic decoder decides alone
  fastAccepted++;
  if (slow === 'refused') t.fail(`${what}: the fast reader accepted what the generic decoder refuses`);
  else if (JSON.stringify(fast, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)) !== JSON.stringify(slow, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))) {
    t.fail(`${what}: values differ`);
  }
}

t.test('boundary values of every field: the fast reader takes the canonical form and returns what the generic decoder returns', async (t) => {
  const cases: [string, Partial<SignedTx['body']>][] = [
    ['defaults', {}],
    ['P-256 key', { keyType: p256.type, publicKey: p256.publicKey }],
    ...['a', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(63)].map((c): [string, Partial<SignedTx['body']>] => [`chain id of ${c.length}`, { chainId: c }]),
    ...[0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32 - 1].map((n): [string, Partial<SignedTx['body']>] => [`nonce ${n}`, { nonce: n }]),
    ...[0, 0x7f, 0x80, 0xff, 0x100, 0xffff].map((n): [string, Partial<SignedTx['body']>] => [`module/method ${n}`, { moduleId: n, methodId: 0xffff - n }]),
    ...[0, 1, 0xff, 0x100, 1000, MAX_ARGS_BYTES].map((n): [string, Partial<SignedTx['body']>] => [`args of ${n} bytes`, { args: new Uint8Array(n).fill(9) }]),
    ...[0n, 1n, 255n, 256n, (1n << 256n) - 1n].map((f): [string, Partial<SignedTx['body']>] => [`fee ${f}`, { fee: f }]),
  ];
  for (const [what, over] of cases) {
    const raw = encodeTx(tx(over));
    const fast = readCanonicalTx(raw, RULES);
    t.ok(fast, `${what}: read directly`);
    agree(t, raw, what);
    t.same(decodeTx(raw).body, generic(raw) === 'refused' ? undefined : (generic(raw) as SignedTx).body, `${what}: decodeTx gives the generic value`);
  }
  for (const n of [2 ** 32, 2 ** 53 - 1]) {
    const raw = encodeTx(tx({ nonce: n }));
    t.equal(readCanonicalTx(raw, RULES), undefined, `nonce ${n} (int64 form) is left to the generic decoder`);
    t.equal(decodeTx(raw).body.nonce, n, '… which decodes it');
  }
});

t.test('non-canonical and invalid hand-made forms are left to the generic decoder, which refuses them', async (t) => {
  const raw = encodeTx(tx({ nonce: 5 }));
  const hex = Buffer.from(raw).toString('hex');
  const forms: [string, string][] = [
    ['nonce 5 as uint8 (0xcc 05)', hex.replace('c4400303', 'c4400303').replace(/05(01)(01)c403/, 'cc05$1$2c403')],
    ['array header of 3 outside', '93' + hex.slice(2) + 'c0'],
    ['trailing byte', hex + '00'],
    ['truncated signature', hex.slice(0, -2)],
    ['version 2', hex.slice(0, 4) + '02' + hex.slice(6)],
  ];
  for (const [what, h] of forms) {
    const bytes = new Uint8Array(Buffer.from(h, 'hex'));
    t.equal(readCanonicalTx(bytes, RULES), undefined, `${what}: not read directly`);
    t.equal(generic(bytes), 'refused', `${what}: the generic decoder refuses it`);
  }
  const chainUpper = encodeTx(tx({ chainId: 'abc' }));
  chainUpper[chainUpper.indexOf(0x61)] = 0x41; // 'abc' → 'Abc': fails CHAIN_ID_RE
  t.equal(readCanonicalTx(chainUpper, RULES), undefined, 'a chain id outside CHAIN_ID_RE');
  t.equal(generic(chainUpper), 'refused');
  const keyType2 = encodeTx(tx());
  keyType2[3 + 1 + 'iotchain-test'.length] = 2;
  t.equal(readCanonicalTx(keyType2, RULES), undefined, 'key type 2');
  t.equal(generic(keyType2), 'refused');
});

t.test('seeded mutations: whatever the fast reader accepts, the generic decoder accepts with the same value', async (t) => {
  const rand = prng(0x7713);
  const seeds = [encodeTx(tx()), encodeTx(tx({ keyType: p256.type, publicKey: p256.publicKey, nonce: 300, args: new Uint8Array(300).fill(1), fee: 0n })), encodeTx(tx({ nonce: 70_000, chainId: 'c'.repeat(40) }))];
  let n = 0;
  for (const seed of seeds) {
    for (let i = 0; i < 1500; i++) {
      const m = new Uint8Array(seed);
      const kind = randInt(rand, 3);
      let bytes: Uint8Array = m;
      if (kind === 0) m[randInt(rand, m.length)] = randInt(rand, 256);
      else if (kind === 1) m[randInt(rand, m.length)]! ^= 1 << randInt(rand, 8);
      else bytes = m.subarray(0, randInt(rand, m.length));
      agree(t, bytes, `mutation ${n}`);
      n++;
    }
  }
  t.ok(fastAccepted > 500, `${fastAccepted} inputs read directly and compared`);
  t.equal(n, 4500);
});
