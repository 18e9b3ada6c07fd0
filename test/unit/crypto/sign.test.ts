// secp256k1 verification goes through libsecp256k1 (N-API) where it loads, P-256 through our
// addon (native/p256verify.c) where `npm install` built it, node:crypto's OpenSSL elsewhere: each
// pair must give the same answer on every input, valid or not, or nodes on different platforms
// could disagree on a transaction. Seeded differential tests over valid signatures and mutations.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { sign, verify, verifyOpenSsl, verifyP256Native, SECP256K1_VERIFIER, P256_VERIFIER } from '../../../crypto/sign.js';
import { keyPairFromPrivate, KeyType, curveOf } from '../../../crypto/keys.js';
import { sha256 } from '../../../crypto/hash.js';
import { prng, randInt } from '../../utils/prng.js';

const hex32 = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
type Verifier = (key: Uint8Array, msg: Uint8Array, sig: Uint8Array) => boolean;

/** 60 keys × 11 inputs (valid, mutated, high-s, out of range, foreign); both verifiers must agree. */
function differential(t: Test, type: KeyType, seed: number, a: Verifier, b: Verifier, names: [string, string]): void {
  const n = curveOf(type).Point.CURVE().n;
  const rand = prng(seed);
  const bytes = (len: number) => Uint8Array.from({ length: len }, () => randInt(rand, 256));
  let valid = 0;
  let cases = 0;
  for (let i = 0; i < 60; i++) {
    const k = keyPairFromPrivate(type, sha256(bytes(32)));
    const other = keyPairFromPrivate(type, sha256(bytes(32)));
    // the message as a view into a larger buffer at an odd offset (native code must honour it)
    const len = 1 + randInt(rand, 200);
    const msg = bytes(len + 7).subarray(3, 3 + len);
    const sig = sign(k, msg);
    const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
    const r = BigInt('0x' + Buffer.from(sig.subarray(0, 32)).toString('hex'));
    const flipped = new Uint8Array(sig);
    flipped[randInt(rand, 64)]! ^= 1 << randInt(rand, 8);
    const badKey = new Uint8Array(k.publicKey);
    badKey[1 + randInt(rand, 32)]! ^= 1;
    const inputs: [string, Uint8Array, Uint8Array, Uint8Array, boolean | undefined][] = [
      ['valid', k.publicKey, msg, sig, true],
      ['other message', k.publicKey, new Uint8Array([...msg, 0]), sig, false],
      ['other key', other.publicKey, msg, sig, false],
      ['flipped signature bit', k.publicKey, msg, flipped, undefined],
      ['flipped key bit (maybe not on the curve)', badKey, msg, sig, false],
      ['high-s twin', k.publicKey, msg, Uint8Array.from([...sig.subarray(0, 32), ...hex32(n - s)]), false],
      ['s = 0', k.publicKey, msg, Uint8Array.from([...sig.subarray(0, 32), ...hex32(0n)]), false],
      ['r = n', k.publicKey, msg, Uint8Array.from([...hex32(n), ...sig.subarray(32)]), false],
      ['r + n overflow', k.publicKey, msg, Uint8Array.from([...hex32((r + n) % (1n << 256n)), ...sig.subarray(32)]), undefined],
      ['key with 0x04 prefix', Uint8Array.from([4, ...k.publicKey.subarray(1)]), msg, sig, false],
      ['63-byte signature', k.publicKey, msg, sig.subarray(0, 63), false],
    ];
    for (const [what, key, m, sg, expected] of inputs) {
      const x = a(key, m, sg);
      const y = b(key, m, sg);
      cases++;
      if (x !== y) t.fail(`case ${i} ${what}: ${names[0]} ${x}, ${names[1]} ${y}`);
      if (expected !== undefined && x !== expected) t.fail(`case ${i} ${what}: expected ${expected}, got ${x}`);
      if (x) valid++;
    }
  }
  t.equal(cases, 660, 'every case compared');
  t.ok(valid >= 60, `${valid} valid signatures among them`);
}

t.test('this platform verifies secp256k1 with libsecp256k1 (linux-x64 has a prebuilt binding)', async (t) => {
  if (process.platform === 'linux' && process.arch === 'x64' && process.env.IOTCHAIN_SECP256K1 !== 'openssl') t.equal(SECP256K1_VERIFIER, 'libsecp256k1');
  else t.ok(['libsecp256k1', 'openssl'].includes(SECP256K1_VERIFIER));
});

t.test('libsecp256k1 and OpenSSL agree on valid, mutated, high-s, out-of-range and foreign inputs', async (t) => {
  differential(t, KeyType.secp256k1, 0x5ec9, (k, m, s) => verify(KeyType.secp256k1, k, m, s), (k, m, s) => verifyOpenSsl(KeyType.secp256k1, k, m, s), ['libsecp256k1', 'OpenSSL']);
});

t.test('P-256: the native verifier is built here (npm install compiles it where Node headers and a compiler exist)', async (t) => {
  if (process.env.IOTCHAIN_P256 === 'openssl') t.equal(P256_VERIFIER, 'openssl', 'IOTCHAIN_P256=openssl forces node:crypto');
  // CI machines and this project's reference machine have both; elsewhere either is correct
  else if (process.env.CI === 'true' && process.platform === 'linux') t.equal(P256_VERIFIER, 'native');
  else t.ok(['native', 'openssl'].includes(P256_VERIFIER));
  const forced = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import('./crypto/sign.ts').then((m) => process.stdout.write(m.P256_VERIFIER))"], {
    env: { ...process.env, IOTCHAIN_P256: 'openssl' },
    encoding: 'utf8',
  });
  t.equal(forced, 'openssl', 'IOTCHAIN_P256=openssl falls back to node:crypto');
});

const notBuilt = P256_VERIFIER === 'native' ? false : 'the native P-256 verifier is not built on this machine (npm install says why)';

t.test('P-256: the native verifier and node:crypto agree on valid, mutated, high-s, out-of-range and foreign inputs', { skip: notBuilt }, async (t) => {
  differential(t, KeyType.p256, 0x9256, verifyP256Native, (k, m, s) => verifyOpenSsl(KeyType.p256, k, m, s), ['native', 'OpenSSL']);
  const k = keyPairFromPrivate(KeyType.p256, sha256(new Uint8Array([1])));
  const msg = new Uint8Array([1, 2, 3]);
  t.ok(verify(KeyType.p256, k.publicKey, Buffer.from(msg), sign(k, msg)), 'verify takes the native path and accepts a Buffer');
  t.equal(verify(KeyType.p256, k.publicKey, 'not bytes' as unknown as Uint8Array, sign(k, msg)), false, 'a message of the wrong kind is false, not a throw');
});

t.test('P-256 native binding: arguments of the wrong kind are TypeErrors, a point off the curve is null', { skip: notBuilt }, async (t) => {
  const { createRequire } = await import('node:module');
  const b = createRequire(import.meta.url)('../../../native/build/Release/iotchain_native.node') as {
    importKey(p: unknown): object | null;
    verify(...args: unknown[]): boolean;
  };
  const k = keyPairFromPrivate(KeyType.p256, sha256(new Uint8Array([2])));
  const key = b.importKey(k.publicKey);
  t.type(key, 'object');
  t.not(key, null);
  t.throws(() => b.importKey(k.publicKey.subarray(0, 32)), TypeError, '32-byte key');
  t.throws(() => b.importKey('02' + 'ab'.repeat(32)), TypeError, 'a string');
  t.throws(() => b.importKey(new Uint16Array(33)), TypeError, 'not a Uint8Array');
  t.equal(b.importKey(Uint8Array.from([5, ...k.publicKey.subarray(1)])), null, 'bad prefix');
  t.equal(b.importKey(Uint8Array.from([2, ...new Uint8Array(32).fill(0xff)])), null, 'x ≥ p');
  const msg = new Uint8Array([9]);
  const sig = sign(k, msg);
  t.equal(b.verify(key, msg, sig), true);
  t.throws(() => b.verify({}, msg, sig), TypeError, 'a plain object is not a key');
  t.throws(() => b.verify(k.publicKey, msg, sig), TypeError, 'raw key bytes are not a key');
  t.throws(() => b.verify(key, 'x', sig), TypeError, 'message must be bytes');
  t.throws(() => b.verify(key, msg, sig.subarray(0, 63)), TypeError, '63-byte signature');
  t.throws(() => b.verify(key, msg), TypeError, 'two arguments');
  t.equal(b.verify(key, msg, new Uint8Array(64)), false, 'r = s = 0 is simply invalid');
});

t.test('isLowS: the byte-wise range check agrees with the bigint rule at every boundary, on both curves', async (t) => {
  const { isLowS } = await import('../../../crypto/sign.js');
  const rand = prng(0x10e5);
  for (const type of [KeyType.secp256k1, KeyType.p256]) {
    const order = curveOf(type).Point.CURVE().n;
    const half = order >> 1n;
    const rule = (r: bigint, s: bigint) => r >= 1n && r < order && s >= 1n && s <= half;
    const values = [0n, 1n, 2n, 255n, 256n, half - 1n, half, half + 1n, order - 2n, order - 1n, order, order + 1n, (1n << 256n) - 1n];
    for (let i = 0; i < 40; i++) values.push(BigInt('0x' + Buffer.from(Uint8Array.from({ length: 32 }, () => randInt(rand, 256))).toString('hex')));
    let checked = 0;
    for (const r of values) {
      for (const s of values) {
        const sig = Uint8Array.from([...hex32(r), ...hex32(s)]);
        if (isLowS(type, sig) !== rule(r, s)) t.fail(`curve ${type}: r=${r.toString(16)} s=${s.toString(16)}: isLowS ${isLowS(type, sig)}, rule ${rule(r, s)}`);
        checked++;
      }
    }
    t.equal(checked, values.length ** 2, `curve ${type}: ${checked} (r, s) pairs`);
    t.notOk(isLowS(type, new Uint8Array(63)), 'a 63-byte signature is refused');
    t.notOk(isLowS(type, new Uint8Array(65)), 'a 65-byte signature is refused');
  }
});

t.test('signFast (OpenSSL, random nonce): low-s signatures that verify, on both curves, and never for another message or key', async (t) => {
  const { signFast, isLowS } = await import('../../../crypto/sign.js');
  const rand = prng(0xfa57);
  for (const type of [KeyType.secp256k1, KeyType.p256]) {
    const key = keyPairFromPrivate(type, sha256(Uint8Array.of(type, 1)));
    const other = keyPairFromPrivate(type, sha256(Uint8Array.of(type, 2)));
    let bad = 0;
    for (let i = 0; i < 150; i++) {
      const msg = Uint8Array.from({ length: 1 + randInt(rand, 300) }, () => randInt(rand, 256));
      const sig = signFast(key, msg);
      if (sig.length !== 64 || !isLowS(type, sig)) bad++;
      if (!verify(type, key.publicKey, msg, sig) || !verifyOpenSsl(type, key.publicKey, msg, sig)) bad++;
      if (verify(type, other.publicKey, msg, sig) || verify(type, key.publicKey, Uint8Array.from([...msg, 0]), sig)) bad++;
    }
    t.equal(bad, 0, `curve ${type}: 150 signatures, all 64 bytes, low-s, valid, and only for their key and message`);
    const msg = Uint8Array.of(1, 2, 3);
    t.not(Buffer.from(signFast(key, msg)).toString('hex'), Buffer.from(signFast(key, msg)).toString('hex'), 'a random nonce: two signatures of one message differ');
    t.ok(verify(type, key.publicKey, msg, sign(key, msg)), 'and the deterministic signer still agrees with the verifier');
  }
});
