// Consensus-message transport: direct length-prefixed streams vs gossipsub, 4 nodes on loopback.
// Run: node --import tsx bench/p2p.ts [--runs 5] [--latency-msgs 500] [--throughput-msgs 2000] [--size 300] [--window 64]
// Prints, per transport, the medians over runs of:
//   latency   one broadcast at a time from node 0; delivery time to each of the 3 peers (p50/p99) and
//             to the last of them (p50/p99)
//   msgs/s    all 4 nodes broadcast at once, each with at most WINDOW messages not yet delivered to
//             all 3 peers; broadcasts fully delivered per second
// Every node started is stopped, also on error.
import '../lib/polyfill.js';
import { num } from './lib/args.js';
import { randomBytes } from 'node:crypto';
import { createP2p, type P2p } from '../node/p2p.js';

type Transport = 'direct' | 'gossip';

const RUNS = num('runs', 5, { integer: true, min: 1 });
const LAT_MSGS = num('latency-msgs', 500, { integer: true, min: 1 });
const TPUT_MSGS = num('throughput-msgs', 2000, { integer: true, min: 1 }); // per sender
const SIZE = num('size', 300, { integer: true, min: 1 });
const WINDOW = num('window', 64, { integer: true, min: 1 });
const N = 4;
const DEADLINE_MS = 60_000;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const median = (xs: number[]): number => pct(xs, 50);

/** Message layout: [sender u8][seq u32 BE] then padding to SIZE (random, so gossip ids never collide). */
function message(sender: number, seq: number): Uint8Array {
  const m = randomBytes(SIZE);
  m[0] = sender;
  m.writeUInt32BE(seq, 1);
  return m;
}
const senderOf = (m: Uint8Array) => m[0]!;
const seqOf = (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).readUInt32BE(1);

async function until(cond: () => boolean, what: string, ms = DEADLINE_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Run {
  perPeerP50: number;
  perPeerP99: number;
  allP50: number;
  allP99: number;
  msgsPerS: number;
}

async function runOnce(transport: Transport, nodes: P2p[]): Promise<Run> {
  // delivered[sender][seq] = number of peers that received it; onDelivered hook for waiting
  const counts = new Map<number, number>();
  const key = (s: number, q: number) => s * 2 ** 32 + q;
  const sentAt = new Map<number, number>();
  const perPeer: number[] = [];
  const all: number[] = [];
  let measuring = false;
  let selfDeliveries = 0;
  let complete = 0;
  const waiters = new Map<number, () => void>();
  for (const [i, n] of nodes.entries()) {
    n.onMessage((m) => {
      const s = senderOf(m);
      if (s === i) selfDeliveries++;
      const k = key(s, seqOf(m));
      const c = (counts.get(k) ?? 0) + 1;
      counts.set(k, c);
      if (measuring) {
        const t = performance.now() - (sentAt.get(k) ?? NaN);
        perPeer.push(t);
        if (c === N - 1) all.push(t);
      }
      if (c === N - 1) {
        complete++;
        counts.delete(k);
        waiters.get(k)?.();
        waiters.delete(k);
      }
    });
  }
  const delivered = (s: number, q: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`message ${s}/${q} not delivered to all peers (${transport})`)), 10_000);
      waiters.set(key(s, q), () => {
        clearTimeout(timer);
        resolve();
      });
    });

  let seq = 0;
  // warm-up: paths, JIT, gossip mesh
  for (let i = 0; i < 200; i++) {
    const q = seq++;
    const d = delivered(0, q);
    await nodes[0]!.broadcast(message(0, q));
    await d;
  }
  // latency: one message at a time
  measuring = true;
  for (let i = 0; i < LAT_MSGS; i++) {
    const q = seq++;
    const d = delivered(0, q);
    sentAt.set(key(0, q), performance.now());
    await nodes[0]!.broadcast(message(0, q));
    await d;
  }
  measuring = false;
  // throughput: every node broadcasts with a bounded window
  complete = 0;
  const t0 = performance.now();
  await Promise.all(
    nodes.map(async (n, s) => {
      const inflight = new Set<Promise<void>>();
      for (let i = 0; i < TPUT_MSGS; i++) {
        const q = seq + i;
        const d = delivered(s, q).finally(() => inflight.delete(d));
        inflight.add(d);
        await n.broadcast(message(s, q));
        if (inflight.size >= WINDOW) await Promise.race(inflight);
      }
      await Promise.all(inflight);
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  if (selfDeliveries > 0) throw new Error(`${transport}: ${selfDeliveries} messages delivered back to their sender`);
  return {
    perPeerP50: pct(perPeer, 50),
    perPeerP99: pct(perPeer, 99),
    allP50: pct(all, 50),
    allP99: pct(all, 99),
    msgsPerS: complete / secs,
  };
}

async function withNetwork<T>(transport: Transport, fn: (nodes: P2p[]) => Promise<T>): Promise<T> {
  const nodes: P2p[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const n = await createP2p('bench', {
        privateKey: randomBytes(32),
        host: '127.0.0.1',
        port: 0,
        peers: nodes.flatMap((p) => p.multiaddrs.slice(0, 1)),
        consensusBroadcast: transport,
        // the gossipsub mesh these figures were taken with (BENCHMARKS.md); nodes default to 'flood'
        txRelay: 'mesh',
      });
      nodes.push(n);
      await n.start();
    }
    await until(() => nodes.every((n) => n.connectedPeers().length === N - 1), 'full mesh');
    await until(() => nodes.every((n) => n.gossipPeers().length === N - 1), 'gossip subscriptions');
    return await fn(nodes);
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()));
  }
}

const results: Record<Transport, Run[]> = { direct: [], gossip: [] };
for (let r = 0; r < RUNS; r++) {
  for (const t of ['direct', 'gossip'] as const) {
    const run = await withNetwork(t, (nodes) => runOnce(t, nodes));
    results[t].push(run);
    console.log(
      `run ${r + 1} ${t.padEnd(6)} per-peer p50 ${run.perPeerP50.toFixed(2)} ms p99 ${run.perPeerP99.toFixed(2)} ms | ` +
        `all-3 p50 ${run.allP50.toFixed(2)} ms p99 ${run.allP99.toFixed(2)} ms | ${run.msgsPerS.toFixed(0)} msgs/s`,
    );
  }
}
console.log(`\nmedians over ${RUNS} runs; ${N} nodes, ${SIZE}-byte messages, ${LAT_MSGS} latency msgs, ${TPUT_MSGS}×${N} throughput msgs, window ${WINDOW}`);
console.log('| transport | per-peer p50 ms | per-peer p99 ms | all-3 p50 ms | all-3 p99 ms | broadcasts/s (4 senders) |');
console.log('|---|---|---|---|---|---|');
for (const t of ['direct', 'gossip'] as const) {
  const rs = results[t];
  const m = (f: (r: Run) => number, d = 2) => median(rs.map(f)).toFixed(d);
  console.log(`| ${t} | ${m((r) => r.perPeerP50)} | ${m((r) => r.perPeerP99)} | ${m((r) => r.allP50)} | ${m((r) => r.allP99)} | ${m((r) => r.msgsPerS, 0)} |`);
}
