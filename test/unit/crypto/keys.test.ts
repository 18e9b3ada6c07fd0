import t from 'tap';
import { keyPairFromPrivate, KeyType, addressOf, senderOf, toChecksumAddress, parseAddress, generateKeyPair } from '../../../crypto/keys.js';
import { ERR } from '../../../lib/errors.js';
import { sign, verify, isLowS } from '../../../crypto/sign.js';
import { keccak256 } from '../../../crypto/hash.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { toHex, utf8 } from '../../../lib/hex.js';

t.test('address and keccak vectors', async (t) => {
  t.equal(toHex(keccak256(new Uint8Array())), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  const one = new Uint8Array(32);
  one[31] = 1;
  const k = keyPairFromPrivate(KeyType.secp256k1, one);
  t.equal(toChecksumAddress(addressOf(k.type, k.publicKey)), '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf');
  // EIP-55 examples
  for (const a of ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB']) {
    t.equal(toChecksumAddress(parseAddress(a)), a);
  }
  t.throws(() => parseAddress('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'), /checksum/, 'a one-letter case change fails the checksum');
  t.ok(parseAddress('0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'), 'all lower case accepted');
  t.throws(() => parseAddress('0x1234'), /40 hex/);
});

t.test('P-256 addresses are tagged: same coordinates never give a secp256k1 address', async (t) => {
  const p = keyPairFromPrivate(KeyType.p256, keccak256(utf8('p')));
  const a1 = addressOf(KeyType.p256, p.publicKey);
  t.equal(a1.length, 20);
  const xy = secp256k1.Point; // just to use the import
  t.ok(xy);
  // hashing the same 64 coordinate bytes untagged gives a different address
  const untagged = keccak256(p256Uncompressed(p.publicKey).subarray(1)).subarray(12);
  t.not(toHex(a1), toHex(untagged));
});

import { p256 } from '@noble/curves/nist.js';
function p256Uncompressed(pub: Uint8Array) {
  return p256.Point.fromBytes(pub).toBytes(false);
}

t.test('signatures: low-s only, node:crypto and noble agree', async (t) => {
  for (const type of [KeyType.secp256k1, KeyType.p256]) {
    const k = generateKeyPair(type);
    const msg = utf8('hello');
    const sig = sign(k, msg);
    t.ok(isLowS(type, sig));
    t.ok(verify(type, k.publicKey, msg, sig), 'verifies');
    t.notOk(verify(type, k.publicKey, utf8('hellp'), sig), 'other message');
    // high-s twin: s' = n - s is valid for OpenSSL but must be rejected
    const n = (type === KeyType.p256 ? p256 : secp256k1).Point.CURVE().n;
    const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
    const high = new Uint8Array(sig);
    high.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
    t.notOk(verify(type, k.publicKey, msg, high), 'high-s rejected');
    t.notOk(verify(type, new Uint8Array(33), msg, sig), 'garbage key rejected without throwing');
    t.notOk(verify(type, k.publicKey, msg, new Uint8Array(64)), 'zero signature rejected');
  }
});

t.test('senderOf: the address and its hex, one shared object per key; a bad key is refused as assertPublicKey refuses it', async (t) => {
  for (const type of [KeyType.secp256k1, KeyType.p256]) {
    const k = generateKeyPair(type);
    const s = senderOf(type, k.publicKey);
    t.same(s.address, addressOf(type, k.publicKey));
    t.equal(s.hex, toHex(addressOf(type, k.publicKey)));
    t.equal(senderOf(type, Uint8Array.from(k.publicKey)), s, 'the same key in another buffer: the same object');
    t.ok(Object.isFrozen(s));
    const offCurve = Uint8Array.from(k.publicKey);
    offCurve[0] = 0x05; // not a compressed-point prefix
    t.throws(() => senderOf(type, offCurve), { code: ERR.ENCODING, message: /not a point on its curve/ });
    t.throws(() => senderOf(type, k.publicKey.subarray(0, 32)), { code: ERR.ENCODING, message: /33 bytes/ });
  }
});
