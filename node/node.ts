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
import { bytesEqual, toHex } from '../lib/hex.js';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { loadConfig, loadGenesis, paths, type NodeConfig } from './config.js';
import { NodeBackend } from './backend.js';
import type { Genesis } from '../state/genesis.js';

export interface NodeOptions {
  home: string;
  /** Passphrase of the consensus key file, unless it is an insecure file. */
  passphrase?: string;
  /** Overrides (e.g. ports chosen by a test or the devnet). */
  config?: Partial<Pick<NodeConfig, 'rpc'>>;
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
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createNode(opts: NodeOptions): Promise<Node> {
  const p = paths(opts.home);
  const config = await loadConfig(opts.home);
  if (opts.config?.rpc) config.rpc = { ...config.rpc, ...opts.config.rpc };
  const genesis = await loadGenesis(p.genesis);
  const log = opts.logger ?? pino({ level: config.log.level, base: { node: config.moniker } });
  const key: KeyPair = await loadKeyFile(p.consensusKey, opts.passphrase);
  if (key.type !== KeyType.p256) throw new InvalidMessageError(ERR.CONFIG, `${p.consensusKey}: the consensus key must be a P-256 key`);
  const index = genesis.validators.findIndex((v) => bytesEqual(v.consensusKey, key.publicKey));
  if (index < 0) throw new InvalidMessageError(ERR.CONFIG, `this node's consensus key ${toHex(key.publicKey)} is not in the genesis validator set`);

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
  if (genesis.validators.length !== 1) {
    await store.close();
    throw new InvalidMessageError(ERR.CONFIG, 'this build runs single-validator consensus only; multi-validator PBFT is not wired yet');
  }
  const consensus = new SingleValidator({
    app,
    txs: mempool,
    key,
    maxBlockTxs: genesis.params.maxBlockTxs,
    maxBlockBytes: genesis.params.maxBlockBytes,
    blockDelayMs: config.consensus.blockDelayMs,
    emptyBlockIntervalMs: config.consensus.emptyBlockIntervalMs,
    now: opts.now,
    onCommit: (b) => {
      log.debug({ height: b.header.height, txs: b.txIds.length }, 'commit');
      backend?.committed(b);
    },
    onError: (e) => {
      log.fatal({ err: e }, 'consensus halted');
      void node.stop().finally(() => {
        process.exitCode = 1;
      });
    },
  });
  backend = new NodeBackend(app, mempool, () => consensus.poke());
  const rpc = createRpcServer({
    backend,
    host: config.rpc.host,
    port: config.rpc.port,
    log: {
      debug: (m, o) => log.debug(o ?? {}, m),
      info: (m, o) => log.info(o ?? {}, m),
      warn: (m, o) => log.warn(o ?? {}, m),
      error: (m, o) => log.error(o ?? {}, m),
    },
  });
  let started = false;
  let stopped: Promise<void> | undefined;
  const node: Node = {
    app,
    mempool,
    config,
    genesis,
    rpcUrl: undefined,
    async start() {
      const addr = await rpc.start();
      node.rpcUrl = addr.url;
      consensus.start();
      started = true;
      log.info({ chainId: genesis.chainId, height: app.head.height, rpc: addr.url, validator: index }, 'node started');
    },
    stop() {
      stopped ??= (async () => {
        if (started) {
          await consensus.stop();
          await rpc.stop();
        }
        await store.close();
        log.info({ height: app.head.height }, 'node stopped');
      })();
      return stopped;
    },
  };
  return node;
}
