// Single-node throughput: tx signing, signature verification, and block execute + commit on LevelDB.
// Run: node --import tsx bench/chain.ts [--txs N]
import '../lib/polyfill.js';
import { num } from './lib/args.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LevelKvStore } from '../state/kvStore.js';
import { checkTxStateless } from '../state/tx.js';
import { KeyType } from '../crypto/keys.js';
import { testChain, testKey, addr, transferTx } from '../test/utils/chain.js';

const N = num('txs', 4000, { integer: true, min: 1 });
const BLOCK = 1000;
const SENDERS = 100;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function run(type: KeyType) {
  const name = type === KeyType.p256 ? 'p256' : 'secp256k1';
  const senders = Array.from({ length: SENDERS }, (_, i) => testKey(`bench-${name}-${i}`, type));
  const to = addr(testKey('sink'));
  // sign
  let t0 = performance.now();
  const txs: Uint8Array[] = [];
  const nonces = new Array(SENDERS).fill(0);
  for (let i = 0; i < N; i++) {
    const s = i % SENDERS;
    txs.push(transferTx(senders[s]!, to, 1n, nonces[s]++, 0n));
  }
  const signPerS = N / ((performance.now() - t0) / 1000);
  // verify (cold: each tx is new to the verified-id cache)
  t0 = performance.now();
  for (const raw of txs) checkTxStateless(raw, 'test-chain');
  const verifyPerS = N / ((performance.now() - t0) / 1000);
  // execute + commit (signatures already verified, as after mempool admission)
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-bench-'));
  const store = await LevelKvStore.open(dir);
  try {
    const c = await testChain({ funded: senders.map((k) => [k, 10n ** 20n] as [typeof k, bigint]), store });
    const perBlock: number[] = [];
    let execMs = 0;
    for (let i = 0; i < N; i += BLOCK) {
      const slice = txs.slice(i, i + BLOCK);
      const s = performance.now();
      const b = await c.block(slice);
      const ms = performance.now() - s;
      execMs += ms;
      if (b.txIds.length !== slice.length) throw new Error(`block dropped txs: ${b.txIds.length}/${slice.length}`);
      perBlock.push(slice.length / (ms / 1000));
    }
    return { curve: name, txs: N, signPerS: Math.round(signPerS), verifyPerS: Math.round(verifyPerS), execCommitTxPerS_median: Math.round(median(perBlock)), execCommitTxPerS_total: Math.round(N / (execMs / 1000)) };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const results = [await run(KeyType.secp256k1), await run(KeyType.p256)];
console.log(JSON.stringify(results, null, 2));
