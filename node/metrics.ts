// Prometheus metrics (prom-client), one registry per node, served on its own loopback HTTP port.
// Metric names carry their units (STYLE.md).
import { createServer, type Server } from 'node:http';
import { Registry, Gauge, Counter, Histogram, collectDefaultMetrics } from 'prom-client';
import { TwoGenerationCache } from '../lib/twoGenCache.js';
import type { P2p } from './p2p.js';

/** Tx arrival times the commit-latency metric holds at most. */
export const TX_ENTERED_MAX = 100_000;

export class NodeMetrics {
  readonly registry = new Registry();
  readonly height = new Gauge({ name: 'iotchain_height', help: 'last committed block height', registers: [this.registry] });
  readonly view = new Gauge({ name: 'iotchain_consensus_view', help: 'current PBFT view at the current height', registers: [this.registry] });
  readonly viewChanges = new Counter({ name: 'iotchain_consensus_view_changes_total', help: 'view changes entered, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly roundSeconds = new Histogram({
    name: 'iotchain_consensus_round_duration_seconds',
    help: 'time from entering a height to committing it',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly commitLatency = new Histogram({
    name: 'iotchain_tx_commit_latency_seconds',
    help: 'time from a tx entering this node (RPC or gossip) to its commit',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  /** The mempool whose size the two gauges below report; read at scrape time (prom-client `collect`), not set on every tx. */
  private mempool: { readonly size: number; readonly sizeBytes: number } | undefined;
  readonly mempoolTxs: Gauge = new Gauge({ name: 'iotchain_mempool_txs', help: 'transactions in the mempool', registers: [this.registry], collect: (): void => void (this.mempool && this.mempoolTxs.set(this.mempool.size)) });
  readonly mempoolBytes: Gauge = new Gauge({ name: 'iotchain_mempool_bytes', help: 'bytes of transactions in the mempool', registers: [this.registry], collect: (): void => void (this.mempool && this.mempoolBytes.set(this.mempool.sizeBytes)) });
  readonly peers = new Gauge({ name: 'iotchain_p2p_peers', help: 'connected libp2p peers', registers: [this.registry] });
  /** The p2p layer whose over-budget counts the counter below reports; read at scrape time. */
  private p2p: Pick<P2p, 'overBudget'> | undefined;
  private readonly overBudgetSeen = { consensus: 0, sync: 0 };
  readonly overBudget: Counter = new Counter({
    name: 'iotchain_p2p_over_budget_total',
    help: 'inbound consensus messages dropped and sync requests refused because the peer exceeded its budget, by channel',
    labelNames: ['channel'],
    registers: [this.registry],
    collect: (): void => {
      const now = this.p2p?.overBudget();
      if (now === undefined) return;
      for (const channel of ['consensus', 'sync'] as const) {
        const d = now[channel] - this.overBudgetSeen[channel];
        if (d > 0) this.overBudget.inc({ channel }, d);
        this.overBudgetSeen[channel] = now[channel];
      }
    },
  });
  readonly txsCommitted = new Counter({ name: 'iotchain_txs_committed_total', help: 'transactions committed (rate() gives tx/s)', registers: [this.registry] });
  readonly txRate = new Gauge({ name: 'iotchain_txs_per_second', help: 'committed tx/s over the last 10 s', registers: [this.registry] });
  private readonly recent: { at: number; n: number }[] = [];
  /**
   * Arrival time by tx id, for the commit latency. Bounded (a tx that never commits — refused by the
   * proposer, evicted, replaced — is never deleted here): entries older than TX_ENTERED_MAX / 2 later
   * arrivals go, in O(1) (a Map trimmed from its front scanned the holes its deletes left).
   */
  private readonly entered = new TwoGenerationCache<string, number>(TX_ENTERED_MAX);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'iotchain_process_' });
  }

  /** Reports this mempool's size on every scrape. */
  watchMempool(m: { readonly size: number; readonly sizeBytes: number }): void {
    this.mempool = m;
  }

  /** Reports this p2p layer's over-budget counts on every scrape (a PBFT node builds it after the metrics). */
  watchP2p(p: Pick<P2p, 'overBudget'>): void {
    this.p2p = p;
    for (const channel of ['consensus', 'sync'] as const) {
      this.overBudgetSeen[channel] = 0;
      this.overBudget.inc({ channel }, 0); // both series shown from the start, at 0
    }
  }

  /** Tx arrivals awaiting their commit (tests). */
  get pendingLatencies(): number {
    return this.entered.size;
  }

  /** Records a tx's arrival time (for commit latency); bounded. */
  txEntered(idHex: string, now: number): void {
    this.entered.set(idHex, now); // a tx seen again keeps its first arrival
  }

  committed(height: number, txIdsHex: string[], now: number, roundStartedAt: number): void {
    this.height.set(height);
    this.txsCommitted.inc(txIdsHex.length);
    this.roundSeconds.observe(Math.max(0, now - roundStartedAt) / 1000);
    for (const id of txIdsHex) {
      const t = this.entered.get(id);
      if (t !== undefined) {
        this.commitLatency.observe(Math.max(0, now - t) / 1000);
        this.entered.delete(id);
      }
    }
    this.recent.push({ at: now, n: txIdsHex.length });
    while (this.recent.length > 0 && this.recent[0]!.at < now - 10_000) this.recent.shift();
    this.txRate.set(this.recent.reduce((s, r) => s + r.n, 0) / 10);
  }

  /** Serves GET /metrics on host:port; returns the bound port. */
  async serve(host: string, port: number): Promise<{ server: Server; port: number }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
        res.writeHead(404).end();
        return;
      }
      this.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text))
        .catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, host, () => res());
    });
    return { server, port: (server.address() as { port: number }).port };
  }
}
