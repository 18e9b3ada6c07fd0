// Mempool.drop (mempool/mempool.ts) against a full pool: what a proposal costs its primary when its
// block drops txs that can no longer be included (a sender whose first tx spent its balance makes
// every later one drop, at no fee). The dropped txs are the LAST admitted (the worst place for a
// pool scan), passed as the pool's own objects (as proposals do) and as equal copies. The txs are
// stand-ins (random bytes, no signatures: admission is not what is measured). Median of 5 runs, ms.
// Run: node --import tsx bench/mempoolDrop.ts [--pool 20000] [--drop 1000]
import { randomBytes } from 'node:crypto';
import { Mempool } from '../mempool/mempool.js';
import type { DecodedTx } from '../state/tx.js';
import { median } from './lib/stats.js';
import { num, finishArgs } from './lib/args.js';

const POOL = num('pool', 20_000, { integer: true, min: 1 });
const DROP = num('drop', 1_000, { integer: true, min: 1 });
finishArgs(import.meta.url);
if (DROP > POOL) throw new Error('--drop must be at most --pool');

const txs = Array.from({ length: POOL }, () => {
  const raw = randomBytes(180);
  const sender = randomBytes(20);
  return { raw, idHex: '0x' + raw.toString('hex', 0, 32), sender, senderHex: '0x' + sender.toString('hex'), body: { nonce: 0, fee: 1n } } as unknown as DecodedTx;
});

for (const copies of [false, true]) {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    let i = 0;
    const m = new Mempool({ checkTx: () => txs[i++]!, nonceOf: () => 0, maxTxs: POOL });
    for (const t of txs) m.add(t.raw);
    const last = txs.slice(POOL - DROP).map((t) => (copies ? Uint8Array.from(t.raw) : t.raw));
    const t0 = performance.now();
    m.drop(last);
    runs.push(performance.now() - t0);
    if (m.size !== POOL - DROP) throw new Error(`dropped ${POOL - m.size}, expected ${DROP}`);
  }
  console.log(`drop ${DROP} of ${POOL} (${copies ? 'equal copies' : "the pool's own objects"}): ${median(runs).toFixed(1)} ms`);
}
