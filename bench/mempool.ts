// The mempool's (mempool/mempool.ts) costs against a full pool, the attacker's cheap cases:
// - drop: what a proposal costs its primary when its block drops txs that can no longer be included
//   (a sender whose first tx spent its balance makes every later one drop, at no fee). The dropped
//   txs are the LAST admitted (the worst place for a pool scan), passed as the pool's own objects
//   (as proposals do) and as equal copies;
// - full-pool admission: a tx whose fee is below every evictable tx is refused (MEMPOOL_FULL), and one
//   above the cheapest evicts it; µs per tx besides its admission check.
// The txs are stand-ins (random bytes, no signatures: the admission check is not what is measured).
// Median of 5 runs.
// Run: node --import tsx bench/mempool.ts [--pool 20000] [--drop 1000] [--senders 2000]
import { randomBytes } from 'node:crypto';
import { Mempool } from '../mempool/mempool.js';
import type { DecodedTx } from '../state/tx.js';
import { median } from './lib/stats.js';
import { num, finishArgs } from './lib/args.js';

const POOL = num('pool', 20_000, { integer: true, min: 1 });
const DROP = num('drop', 1_000, { integer: true, min: 1 });
const SENDERS = num('senders', 2_000, { integer: true, min: 1 });
finishArgs(import.meta.url);
if (DROP > POOL) throw new Error('--drop must be at most --pool');

const fake = (sender: Buffer, nonce: number, fee: bigint): DecodedTx => {
  const raw = randomBytes(180);
  return { raw, idHex: '0x' + raw.toString('hex', 0, 32), sender, senderHex: '0x' + sender.toString('hex'), body: { nonce, fee } } as unknown as DecodedTx;
};
const senders = Array.from({ length: SENDERS }, () => randomBytes(20));
const txs = Array.from({ length: POOL }, (_, i) => fake(senders[i % SENDERS]!, Math.floor(i / SENDERS), 5n));

/** A pool holding `txs` whose admission check hands out the tx set in `pending.tx`. */
function fullPool(): { m: Mempool; pending: { tx: DecodedTx | undefined } } {
  const pending: { tx: DecodedTx | undefined } = { tx: undefined };
  const m = new Mempool({ checkTx: () => pending.tx!, nonceOf: () => 0, maxTxs: POOL, nonceWindow: Math.ceil(POOL / SENDERS) + 1 });
  for (const t of txs) {
    pending.tx = t;
    m.add(t.raw);
  }
  return { m, pending };
}

for (const copies of [false, true]) {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const { m } = fullPool();
    const last = txs.slice(POOL - DROP).map((t) => (copies ? Uint8Array.from(t.raw) : t.raw));
    const t0 = performance.now();
    m.drop(last);
    runs.push(performance.now() - t0);
    if (m.size !== POOL - DROP) throw new Error(`dropped ${POOL - m.size}, expected ${DROP}`);
  }
  console.log(`drop ${DROP} of ${POOL} (${copies ? 'equal copies' : "the pool's own objects"}): ${median(runs).toFixed(1)} ms`);
}

for (const [what, fee] of [['refused (fee below every tail)', 1n], ['evicting the cheapest tail', 9n]] as const) {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const { m, pending } = fullPool();
    const incoming = Array.from({ length: 2000 }, () => fake(randomBytes(20), 0, fee));
    const t0 = performance.now();
    let refused = 0;
    for (const t of incoming) {
      pending.tx = t;
      try {
        m.add(t.raw);
      } catch {
        refused++;
      }
    }
    runs.push(((performance.now() - t0) * 1000) / incoming.length);
    if ((refused === incoming.length) !== (fee === 1n)) throw new Error(`${refused} of ${incoming.length} refused`);
  }
  console.log(`admission at a full pool of ${POOL} (${SENDERS} senders), ${what}: ${median(runs).toFixed(1)} µs per tx`);
}
