// The composition root (STYLE.md node/): builds the store, the application, the mempool, consensus
// and the RPC server from a home directory, and owns the start/stop order.
import pino, { type Logger } from 'pino';
import { LevelKvStore, type KvStore } from '../state/kvStore.js';
import { App } from '../protocols/app.js';
import { defaultModules } from '../protocols/registry.js';
import { Mempool } from '../mempool/mempool.js';
import { SingleValidator } from '../consensus/single.js';
import { createRpcServer } from '../rpc/server.js';
import { loadKeyFile } from '../crypto/keystore.js';
import { KeyType, type KeyPair } from '../crypto/keys.js';
import { bytesEqual } from '../lib/hex.js';
import { InvalidMessageError, IotchainError, ERR, errorMessage } from '../lib/errors.js';
import { PbftDriver } from '../consensus/driver.js';
import { Wal } from '../consensus/wal.js';
import { syncBlocks, serveSync } from '../consensus/sync.js';
import { MAX_CONSENSUS_MSG_BYTES } from '../consensus/messages.js';
import { createP2p, type P2p } from './p2p.js';
import { EvidenceStore } from './evidence.js';
import type { CommittedBlock } from '../state/application.js';
import type { DecodedTx } from '../state/tx.js';
import type { Server } from 'node:http';
import { NodeMetrics } from './metrics.js';
import type { Log } from '../lib/log.js';

/** Tx errors that are the sender's fault whoever relays them (they score a gossiping peer down). */
const STATELESS_FAULTS = new Set<string>([ERR.ENCODING, ERR.TOO_LARGE, ERR.BAD_SIGNATURE, ERR.HIGH_S, ERR.WRONG_CHAIN]);
import { loadConfig, loadGenesis, paths, type NodeConfig } from './config.js';
import { NodeBackend } from './backend.js';
import type { Genesis } from '../state/genesis.js';

export interface NodeOptions {
  home: string;
  /** Passphrase of the consensus key file, unless it is an insecure file. */
  passphrase?: string;
  /** Overrides (e.g. ports chosen by a test or the devnet). */
  config?: Partial<Pick<NodeConfig, 'rpc' | 'metrics'>>;
  logger?: Logger;
  now?: () => number;
}

export interface Node {
  readonly app: App;
  readonly mempool: Mempool;
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  /** RPC URL once started. */
  rpcUrl: string | undefined;
  /** Prometheus endpoint once started (unless turned off). */
  metricsUrl: string | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createNode(opts: NodeOptions): Promise<Node> {
  const p = paths(opts.home);
  const config = await loadConfig(opts.home);
  if (opts.config?.rpc) config.rpc = { ...config.rpc, ...opts.config.rpc };
  if (opts.config?.metrics) config.metrics = { ...config.metrics, ...opts.config.metrics };
  const genesis = await loadGenesis(p.genesis);
  const log = opts.logger ?? pino({ level: config.log.level, base: { node: config.moniker } });
  const key: KeyPair = await loadKeyFile(p.consensusKey, opts.passphrase);
  if (key.type !== KeyType.p256) throw new InvalidMessageError(ERR.CONFIG, `${p.consensusKey}: the consensus key must be a P-256 key`);

  const store: KvStore = await LevelKvStore.open(p.data);
  let app: App;
  try {
    app = await App.open({ store, genesis, modules: defaultModules(), now: opts.now });
  } catch (e) {
    await store.close();
    throw e;
  }
  const mempool = new Mempool({
    checkTx: (raw) => app.checkTx(raw),
    nonceOf: (sender) => app.account(sender).nonce,
    maxTxs: config.mempool.maxTxs,
    maxBytes: config.mempool.maxBytes,
    nonceWindow: config.mempool.nonceWindow,
  });
  let backend: NodeBackend | undefined;
  const metrics = new NodeMetrics();
  metrics.watchMempool(mempool);
  const clock = opts.now ?? Date.now;
  let roundStartedAt = clock();
  metrics.height.set(app.head.height);
  const onCommit = (b: CommittedBlock) => {
    log.debug({ height: b.header.height, txs: b.txIds.length }, 'commit');
    const now = clock();
    metrics.committed(b.header.height, b.txIdsHex, now, roundStartedAt);
    metrics.view.set(0);
    roundStartedAt = now;
    backend?.committed(b);
  };
  const txEntered = (tx: DecodedTx) => {
    metrics.txEntered(tx.idHex, clock());
  };
  const onError = (e: unknown) => {
    log.fatal({ err: e }, 'consensus halted');
    void node.stop().finally(() => {
      process.exitCode = 1;
    });
  };
  const plog: Log = {
    debug: (m: string, o?: object) => log.debug(o ?? {}, m),
    info: (m: string, o?: object) => log.info(o ?? {}, m),
    warn: (m: string, o?: object) => log.warn(o ?? {}, m),
    error: (m: string, o?: object) => log.error(o ?? {}, m),
  };
  let consensus: { start(): void; stop(): Promise<void>; poke(): void };
  let p2p: P2p | undefined;
  let wal: Wal | undefined;
  const evidence = new EvidenceStore(store, plog);

  /** The p2p node, WAL and PBFT driver (not started). */
  const buildPbft = async (): Promise<PbftDriver> => {
    const p2pKey = await loadKeyFile(p.p2pKey, undefined);
    // consensus names validators by index in the set in force (the driver's, which follows changes)
    const peerOf = (i: number | undefined) => (i === undefined ? undefined : driver.validatorSet[i]?.peerId || undefined);
    const net = await createP2p(genesis.chainId, {
      privateKey: p2pKey.privateKey,
      host: config.p2p.host,
      port: config.p2p.port,
      peers: config.p2p.peers,
      txRelay: config.p2p.txRelay,
      // the set in force at this node's height; members of later sets are added as their set takes
      // effect (onValidatorSet), and a removed validator stays allowed until this node restarts
      allowedPeers: app.info().validators.map((v) => v.peerId).filter((id) => id !== ''),
      maxMessageBytes: 32 * 1024 * 1024,
      maxConsensusBytes: MAX_CONSENSUS_MSG_BYTES,
      log: plog,
    });
    p2p = net;
    wal = Wal.open(p.wal);
    const driver: PbftDriver = new PbftDriver({
      app,
      txs: mempool,
      key,
      wal,
      net: { broadcast: (m) => net.broadcast(m) },
      sync: (from, to, peers) =>
        syncBlocks(
          {
            app,
            validators: driver.validatorSet,
            request: (peer, req) => net.requestSync(peerOf(peer) ?? '', req, 10_000),
            penalize: (peer, reason) => {
              const id = peerOf(peer);
              if (id) net.penalize(id, reason);
            },
            log: plog,
            // a synced block is committed like a decided one: mempool, metrics, RPC subscribers
            onCommit: (b) => {
              mempool.update(b.txIdsHex);
              onCommit(b);
            },
          },
          to,
          peers,
          driver.self,
        ),
      evidence: (a, b) => evidence.record(a, b),
      penalize: (culprit, reason) => {
        if ('peer' in culprit) net.penalize(culprit.peer, reason);
        else if (culprit.validator !== driver.self) {
          const id = peerOf(culprit.validator);
          if (id) net.penalize(id, reason);
        }
      },
      params: { timeoutBaseMs: config.consensus.timeoutBaseMs, timeoutMaxMs: config.consensus.timeoutMaxMs },
      maxBlockTxs: genesis.params.maxBlockTxs,
      maxBlockBytes: genesis.params.maxBlockBytes,
      emptyBlockIntervalMs: config.consensus.emptyBlockIntervalMs,
      blockDelayMs: config.consensus.blockDelayMs,
      blockDelayMaxMs: config.consensus.blockDelayMaxMs,
      now: opts.now,
      log: plog,
      onCommit,
      onViewChange: (height, view, reason) => {
        log.info({ height, view, reason }, 'view change');
        metrics.view.set(view);
        metrics.viewChanges.inc({ reason });
      },
      onValidatorSet: (set) => net.allowPeers(set.map((v) => v.peerId).filter((id) => id !== '')),
      onError,
    });
    net.onMessage((raw, from) => driver.deliver(raw, from));
    net.serveSync(async (req) => serveSync(app.blocks, req));
    // a batch's signatures are checked back to back first; the per-tx admission below finds them cached
    net.onTxBatch((txs) => void app.verifyAhead(txs, true));
    net.onTx(async (raw) => {
      try {
        txEntered(mempool.add(raw));
        driver.poke();
      } catch (e) {
        // only faults of the message itself score the relayer down; a stale nonce or a full pool does not
        if (e instanceof InvalidMessageError && STATELESS_FAULTS.has(e.code)) throw e;
        throw new Error(errorMessage(e));
      }
    });
    net.onPeer(() => metrics.peers.set(net.connectedPeers().length));
    metrics.watchP2p(net);
    return driver;
  };

  // The driver follows the set in force, not genesis. A key outside the set in force (of any size)
  // is a validator added later (or removed): it runs the PBFT driver, follows the chain by block sync
  // and votes once the set names it — also on a chain whose genesis has one validator, which new
  // members start from. The key of a 1-member set runs the single-validator driver (no p2p, no WAL)
  // until a set change takes effect; then it hands over to PBFT in this process (handOver below).
  let handingOver: Promise<void> | undefined;
  let stopping = false;
  const inForce = app.info().validators;
  if (inForce.length === 1 && bytesEqual(inForce[0]!.consensusKey, key.publicKey)) {
    const single = new SingleValidator({
      app,
      txs: mempool,
      key,
      maxBlockTxs: genesis.params.maxBlockTxs,
      maxBlockBytes: genesis.params.maxBlockBytes,
      blockDelayMs: config.consensus.blockDelayMs,
      emptyBlockIntervalMs: config.consensus.emptyBlockIntervalMs,
      now: opts.now,
      onCommit,
      onError: (e) => {
        if (!(e instanceof IotchainError && e.code === 'CONSENSUS_SET_CHANGED')) onError(e);
        else if (!stopping) handingOver ??= handOver(single); // (while stopping: nothing to hand over to)
      },
    });
    consensus = single;
  } else {
    consensus = await buildPbft();
  }

  /**
   * A set change approved on the 1-validator chain is in force: the single driver has stopped before
   * certifying a block alone. Start p2p and PBFT with the new set, as a restart would (the new
   * members sync from this node and vote once connected; the mempool and RPC carry on). A failure
   * here (say, the p2p port is taken) halts the node like any consensus failure.
   */
  const handOver = async (single: SingleValidator): Promise<void> => {
    try {
      await single.stop();
      const n = app.info().validators.length;
      log.info({ height: app.head.height, validators: n }, 'validator set changed: single-validator consensus hands over to PBFT');
      const driver = await buildPbft();
      if (stopping) return;
      await p2p!.start();
      consensus = driver;
      if (stopping) return;
      driver.start();
      log.info({ height: app.head.height, peerId: p2p!.peerId }, 'PBFT started');
    } catch (e) {
      onError(e);
    }
  };
  backend = new NodeBackend(app, mempool, (tx) => {
    txEntered(tx);
    consensus.poke();
    void p2p?.publishTx(tx.raw).catch((e) => log.debug({ err: errorMessage(e) }, 'tx gossip failed'));
  }, evidence);
  let metricsServer: Server | undefined;
  const rpc = createRpcServer({
    backend,
    host: config.rpc.host,
    port: config.rpc.port,
    log: plog,
  });
  let started = false;
  let stopped: Promise<void> | undefined;
  const node: Node = {
    app,
    mempool,
    config,
    genesis,
    rpcUrl: undefined,
    metricsUrl: undefined,
    async start() {
      if (p2p) await p2p.start();
      const addr = await rpc.start();
      if (config.metrics.port >= 0) {
        const m = await metrics.serve(config.metrics.host, config.metrics.port);
        metricsServer = m.server;
        node.metricsUrl = `http://${config.metrics.host}:${m.port}/metrics`;
      }
      node.rpcUrl = addr.url;
      consensus.start();
      started = true;
      const self = app.info().validators.findIndex((v) => bytesEqual(v.consensusKey, key.publicKey));
      log.info({ chainId: genesis.chainId, height: app.head.height, rpc: addr.url, validator: self < 0 ? null : self, peerId: p2p?.peerId }, self < 0 ? 'node started (following: not in the validator set)' : 'node started');
    },
    stop() {
      stopping = true;
      stopped ??= (async () => {
        await handingOver;
        if (started) {
          await consensus.stop();
          await rpc.stop();
          if (metricsServer) await new Promise<void>((r) => metricsServer!.close(() => r()));
          if (p2p) await p2p.stop();
        }
        wal?.close();
        await store.close();
        log.info({ height: app.head.height }, 'node stopped');
      })();
      return stopped;
    },
  };
  return node;
}
