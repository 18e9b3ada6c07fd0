// Pre-signed transfers for load generators, signed with node:crypto (OpenSSL) on worker threads
// instead of @noble/curves on one thread: noble signs ~1,000 tx/s here for either curve; OpenSSL
// signs P-256 ~6× faster (secp256k1 about the same), and the workers use both cores.
// The bytes are built by the node's own encoders (state/tx.ts), only the ECDSA step differs: OpenSSL
// signs SHA-256(DOMAIN.tx ‖ body) with a random nonce and the signature is normalized to low-s, so
// every transaction verifies exactly as one from buildTx would (presignRange checks the first of each sender with assertLikeBuildTx).
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { DOMAIN, sha256 } from '../../crypto/hash.js';
import { curveOf, KeyType, uncompressPublicKey, type KeyPair } from '../../crypto/keys.js';
import { bytesEqual, concatBytes, toHex } from '../../lib/hex.js';
import { encode } from '../../lib/encoding.js';
import { checkTxStateless, encodeTx, encodeTxBody, TX_VERSION, type TxBody } from '../../state/tx.js';
import { transferArgsCodec } from '../../protocols/bank/codec.js';
import { transferTx, testKey, addr } from '../../test/utils/chain.js';

const JWK_CURVE: Record<KeyType, string> = { [KeyType.secp256k1]: 'secp256k1', [KeyType.p256]: 'P-256' };

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** node:crypto private key object for a KeyPair (via JWK: d, and x, y of the uncompressed point). */
export function privateKeyObject(key: KeyPair): KeyObject {
  const u = uncompressPublicKey(key.type, key.publicKey);
  return createPrivateKey({
    format: 'jwk',
    key: { kty: 'EC', crv: JWK_CURVE[key.type], d: b64url(key.privateKey), x: b64url(u.subarray(1, 33)), y: b64url(u.subarray(33, 65)) },
  });
}

/** 64-byte r‖s with s replaced by n − s when s > n/2 (the chain accepts low-s only). */
function lowS(type: KeyType, sig: Uint8Array): Uint8Array {
  const n = curveOf(type).Point.CURVE().n;
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
  if (s <= n >> 1n) return sig;
  const out = new Uint8Array(64);
  out.set(sig.subarray(0, 32), 0);
  out.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

export interface PresignedTx {
  raw: Uint8Array;
  /** raw as 0x-hex, as tx_send takes it. */
  hex: string;
  /** tx id (SHA-256 of the encoded body), 0x-hex as the node reports it. */
  idHex: string;
}

export interface TransferSpec {
  from: KeyPair;
  to: Uint8Array;
  amount: bigint;
  fee: bigint;
  chainId: string;
}

/** Signs transfers with nonces firstNonce … firstNonce+count−1 from one sender. */
export function presignTransfers(spec: TransferSpec, firstNonce: number, count: number, keyObj: KeyObject = privateKeyObject(spec.from)): PresignedTx[] {
  const args = encode(transferArgsCodec, { to: spec.to, amount: spec.amount });
  const out: PresignedTx[] = [];
  for (let nonce = firstNonce; nonce < firstNonce + count; nonce++) {
    const body: TxBody = {
      version: TX_VERSION,
      chainId: spec.chainId,
      keyType: spec.from.type,
      publicKey: spec.from.publicKey,
      nonce,
      moduleId: 1,
      methodId: 1,
      args,
      fee: spec.fee,
    };
    const bodyBytes = encodeTxBody(body);
    const sig = lowS(spec.from.type, new Uint8Array(nodeSign('sha256', concatBytes(DOMAIN.tx, bodyBytes), { key: keyObj, dsaEncoding: 'ieee-p1363' })));
    const raw = encodeTx({ body, signature: sig });
    out.push({ raw, hex: toHex(raw), idHex: toHex(sha256(bodyBytes)) });
  }
  return out;
}

/**
 * Throws unless `tx` passes the node's stateless check (decode, chain id, low-s, signature) and is
 * byte-identical, signature aside, to what buildTx (via test/utils transferTx) makes for the same fields.
 */
export function assertLikeBuildTx(spec: TransferSpec, tx: PresignedTx, nonce: number): void {
  checkTxStateless(tx.raw, spec.chainId);
  const ref = transferTx(spec.from, spec.to, spec.amount, nonce, spec.fee, spec.chainId);
  if (ref.length !== tx.raw.length || !bytesEqual(ref.subarray(0, ref.length - 64), tx.raw.subarray(0, tx.raw.length - 64))) {
    throw new Error('presign: transaction bytes differ from buildTx');
  }
}

/** A load of `senders` accounts, each with its own run of nonces 0 … perSender−1. */
export interface LoadSpec {
  chainId: string;
  type: KeyType;
  senders: number;
  perSender: number;
  /** Key i is testKey(`${label}-${i}`, type); it pays 1 unit to key (i+1) mod senders. */
  label: string;
}

export const senderKey = (spec: Pick<LoadSpec, 'label' | 'type'>, i: number): KeyPair => testKey(`${spec.label}-${i}`, spec.type);

/** Presigns the transactions of senders [from, to) of a load (what one worker does). */
export function presignRange(spec: LoadSpec, from: number, to: number): PresignedTx[][] {
  const out: PresignedTx[][] = [];
  for (let i = from; i < to; i++) {
    const t: TransferSpec = { from: senderKey(spec, i), to: addr(senderKey(spec, (i + 1) % spec.senders)), amount: 1n, fee: 0n, chainId: spec.chainId };
    const txs = presignTransfers(t, 0, spec.perSender);
    if (i === from) assertLikeBuildTx(t, txs[0]!, 0);
    out.push(txs);
  }
  return out;
}

/** Worker threads do not inherit `--import tsx`: register it (as bin/iotchain.js does), then load the entry. */
const WORKER_BOOT = `
const { workerData } = require('node:worker_threads');
import('tsx/esm/api').then((m) => { m.register(); return import(workerData.entry); });
`;

/** Presigns a whole load on `workers` threads (signing is CPU-bound; 1 thread per core). */
export async function presignLoad(spec: LoadSpec, workers: number): Promise<PresignedTx[][]> {
  const k = Math.max(1, Math.min(workers, spec.senders));
  const per = Math.ceil(spec.senders / k);
  const parts = await Promise.all(
    Array.from({ length: k }, (_, w) => {
      const from = w * per;
      const to = Math.min(spec.senders, from + per);
      return new Promise<PresignedTx[][]>((res, rej) => {
        const worker = new Worker(WORKER_BOOT, { eval: true, workerData: { spec, from, to, entry: new URL('./presignWorker.ts', import.meta.url).href } });
        worker.once('message', (m: PresignedTx[][]) => res(m));
        worker.once('error', rej);
        worker.once('exit', (code) => (code === 0 ? undefined : rej(new Error(`presign worker exited with ${code}`))));
      });
    }),
  );
  return parts.flat();
}
