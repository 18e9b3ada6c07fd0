// Signing cost per signature, one core: @noble/curves (`crypto/sign.ts sign`, RFC 6979, used to build
// txs) against OpenSSL (`signFast`, used for consensus votes), for both curves.
// Run: node --import tsx bench/sigCost.ts [--n 300]
import { sign, signFast } from '../crypto/sign.js';
import { KeyType, CURVE_NAMES, keyPairFromPrivate } from '../crypto/keys.js';
import { sha256 } from '../crypto/hash.js';
import { num } from './lib/args.js';

const N = num('n', 300, { integer: true, min: 1 });
const msg = new Uint8Array(100).fill(7);
const cpuUs = (fn: () => void, n: number): number => {
  fn(); // warm-up (and the OpenSSL key import)
  const t = process.cpuUsage();
  for (let k = 0; k < n; k++) fn();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / n;
};
for (const type of [KeyType.secp256k1, KeyType.p256]) {
  const key = keyPairFromPrivate(type, sha256(Uint8Array.of(type)));
  const noble = cpuUs(() => sign(key, msg), N);
  const openssl = cpuUs(() => signFast(key, msg), N * 10);
  console.log(`${CURVE_NAMES[type].padEnd(9)} noble ${noble.toFixed(0)} µs, OpenSSL ${openssl.toFixed(0)} µs per signature (${(noble / openssl).toFixed(0)}×)`);
}
