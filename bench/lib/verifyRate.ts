// The signature bound: crypto/sign.ts verify (the node's check: low-s, cached key object, OpenSSL)
// on pre-made signatures, on one core (this thread), for at least `ms` milliseconds.
import { randomBytes } from 'node:crypto';
import { verify } from '../../crypto/sign.js';
import type { KeyType } from '../../crypto/keys.js';
import { presignTransfers, senderKey } from './presign.js';
import { decodeTx, txSignBytes } from '../../state/tx.js';
import { addr } from '../../test/utils/chain.js';

export function measureVerifyRate(type: KeyType, ms = 3000): number {
  // 64 senders × 16 transfers: real transaction sign-bytes, signed by OpenSSL, low-s
  const keys = Array.from({ length: 64 }, (_, i) => senderKey({ label: `verify-${type}`, type }, i));
  const samples = keys.flatMap((k) => presignTransfers({ from: k, to: addr(keys[0]!), amount: 1n, fee: 0n, chainId: `bench-${randomBytes(4).toString('hex')}` }, 0, 16)).map((t) => {
    const tx = decodeTx(t.raw);
    return { ...tx, signBytes: txSignBytes(tx) };
  });
  for (const s of samples) if (!verify(s.body.keyType, s.body.publicKey, s.signBytes, s.signature)) throw new Error('verify rate: a pre-made signature does not verify');
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (const s of samples) verify(s.body.keyType, s.body.publicKey, s.signBytes, s.signature);
    n += samples.length;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}
