// The node's networking (SPEC §3): libp2p over TCP + Noise + Yamux with a secp256k1 identity,
// static bootstrap peers redialled with bounded backoff, and three channels:
//   txs         gossipsub topic /iotchain/<chainId>/txs/1 (StrictNoSign: message id = sha256(data)):
//               batches of raw txs collected for a few ms (txBatch.ts), one message per batch
//   consensus   protocol /iotchain/<chainId>/consensus/1: one long-lived stream per peer, length-
//               prefixed frames (chosen over gossipsub by measurement: bench/p2p.ts, BENCHMARKS.md)
//   sync        protocol /iotchain/<chainId>/sync/1: one stream per request/response
// Every inbound message is size-checked from its length prefix before its body is buffered; an
// oversize or undecodable frame, or a message a handler rejects with InvalidMessageError, scores the
// sender down (peerScore.ts); past the threshold the peer is disconnected and refused for a while.
// Yamux returns receive credit once half a stream's window is used, not after every frame
// (yamuxWindow.ts). Knows nothing of consensus: messages are opaque bytes.
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify, type Identify } from '@libp2p/identify';
import { gossipsub, StrictNoSign, TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey as libp2pPeerId, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Connection, PeerId, PrivateKey, Stream } from '@libp2p/interface';
import { IotchainError, InvalidMessageError, ERR, errorMessage } from '../lib/errors.js';
import { PeerScores, DEFAULT_PENALTY, type PeerScoreOptions } from './peerScore.js';
import { PeerBudgets, type Budget } from './rateLimit.js';
import { OutboundChannels, receiveFrames, request, respond, badFrameOf, type BadFrame } from './p2pProtocols.js';
import { TxBatcher, decodeTxBatch, maxBatchBytes, DEFAULT_TX_BATCH, type TxBatchLimits } from './txBatch.js';
import { installYamuxHalfWindowUpdates } from './yamuxWindow.js';
import type { Log } from '../lib/log.js';
import { SYNC_MAX_REQUEST_BYTES } from '../consensus/sync.js';

/** The injected logger (lib/log.ts). */
export type P2pLogger = Log;

export interface P2pOptions {
  /** 32-byte secp256k1 private key: the libp2p identity (peer id). */
  privateKey: Uint8Array;
  /** Listen on /ip4/<host>/tcp/<port>; port 0 picks an ephemeral port. */
  host: string;
  port: number;
  /** Static peers: multiaddrs ending in /p2p/<peerId>, dialled at start and redialled when dropped. */
  peers: string[];
  /** If set, only these peer ids may connect (the validators); any other peer is refused. */
  allowedPeers?: string[];
  /** Largest consensus message, sync request or sync response. Default 4 MiB. */
  maxMessageBytes?: number;
  /**
   * Largest inbound consensus message, if smaller than maxMessageBytes (which sync responses need):
   * a longer frame is refused from its length prefix and costs its sender, instead of being read
   * whole and then refused by the decoder. Default maxMessageBytes.
   */
  maxConsensusBytes?: number;
  /** Largest gossiped transaction. Default 128 KiB. */
  maxTxBytes?: number;
  /** Tx gossip batches: most txs and bytes per batch, and how long a batch collects. Default 1024 txs, 512 KiB, 20 ms. */
  txBatch?: { maxTxs?: number; maxBytes?: number; delayMs?: number };
  /**
   * How tx batches travel. 'flood' (default): the publisher sends a batch to every connected peer
   * (gossipsub's flood publish) and the gossipsub mesh is kept empty, so nobody pushes it on; a
   * peer that is not connected to the publisher gets it by gossipsub's lazy IHAVE/IWANT from a
   * peer that has it, within a heartbeat. 'mesh': gossipsub's default mesh (degree 6), which
   * forwards every batch at once: among validators that all dial each other, each batch then
   * arrives two or more times (duplicates cost a decrypt, a decode and a hash each).
   */
  txRelay?: 'flood' | 'mesh';
  /** Redial delays for static peers: `initialMs` doubling to `maxMs` (±20 % jitter). Default 250 ms → 10 s. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Peer scoring (threshold, decay, ban lengths). */
  scoring?: PeerScoreOptions;
  /**
   * Per-peer budgets (token buckets, rateLimit.ts). `consensus`: inbound consensus frames and their
   * bytes. `sync`: sync requests served, and the bytes of the responses. What exceeds a budget is
   * dropped before it is decoded (a sync request is refused) and costs the peer
   * PENALTY.OVER_BUDGET. Defaults: defaultBudgets().
   */
  budgets?: { consensus?: Partial<Budget>; sync?: Partial<Budget> };
  /** Clock of the scores and budgets (tests). Default Date.now. */
  now?: () => number;
  /**
   * How `broadcast` reaches peers: 'direct' (default) writes to each peer's consensus stream;
   * 'gossip' publishes on the consensus gossipsub topic. Kept for bench/p2p.ts, which measures both.
   */
  consensusBroadcast?: 'direct' | 'gossip';
  log?: P2pLogger;
}

export type TxHandler = (raw: Uint8Array, from: string) => void | Promise<void>;
/** Sees a received batch's txs once, before the TxHandler gets them one by one; must not throw. */
export type TxBatchPreparer = (txs: readonly Uint8Array[]) => void;
export type MessageHandler = (msg: Uint8Array, from: string) => void | Promise<void>;
export type SyncHandler = (req: Uint8Array, from: string) => Promise<Uint8Array>;
export type PeerHandler = (peerId: string, connected: boolean) => void;

export interface P2p {
  readonly peerId: string;
  /** Listen addresses including /p2p/<peerId> (available after start). */
  readonly multiaddrs: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  connectedPeers(): string[];
  /** Peers exchanging tx gossip with us (subscribed to the tx topic). */
  gossipPeers(): string[];
  /** Peers in our gossipsub mesh for the tx topic (they get every batch pushed on); empty with txRelay 'flood'. */
  gossipMeshPeers(): string[];
  /** Queues a tx for the next gossip batch; resolves when the batch is published. */
  publishTx(raw: Uint8Array): Promise<void>;
  /**
   * Called for each tx of a received batch, in order. The handler validates: a batch whose txs all
   * return (or fail benignly) is accepted if any was new, and passed on as `txRelay` says; the first
   * tx rejected with InvalidMessageError rejects the batch (never passed on; later txs are not
   * handled) and scores the relayer down once; any other error drops that tx.
   */
  onTx(handler: TxHandler): void;
  /**
   * Called once per received batch, with all its txs, before `onTx`'s handler sees them: the node
   * checks their signatures back to back there (state/tx.ts verifyAhead). Errors are its own to swallow.
   */
  onTxBatch(prepare: TxBatchPreparer): void;
  /** Adds peer ids to the allow-list (new validators after a validator-set change); no-op without one. */
  allowPeers(peerIds: string[]): void;
  /** Sends to every connected (allowed) peer, never to ourselves; never rejects because of one peer. */
  broadcast(msg: Uint8Array): Promise<void>;
  /** Sends to one connected peer; rejects with P2P_NOT_CONNECTED or a stream error. */
  send(peerId: string, msg: Uint8Array): Promise<void>;
  /** Consensus messages from peers; InvalidMessageError from the handler scores the sender down. */
  onMessage(handler: MessageHandler): void;
  serveSync(handler: SyncHandler): void;
  requestSync(peerId: string, req: Uint8Array, timeoutMs?: number): Promise<Uint8Array>;
  /** Lowers a peer's score (default weight 10, threshold -100); past the threshold it is disconnected and refused for a while. */
  penalize(peerId: string, reason: string, weight?: number): void;
  /** Current score of a peer (0 = clean; the threshold while banned). */
  peerScore(peerId: string): number;
  isBanned(peerId: string): boolean;
  /** Connection changes (first connection opened / last one closed). Several handlers may be registered. */
  onPeer(handler: PeerHandler): void;
  /** Messages dropped (consensus) and requests refused (sync) for exceeding a peer's budget, since start. */
  overBudget(): { consensus: number; sync: number };
}

/** Codes of the errors raised by this module (besides InvalidMessageError for oversize/garbage). */
export const P2P_ERR = {
  NOT_CONNECTED: 'P2P_NOT_CONNECTED',
  TIMEOUT: 'P2P_TIMEOUT',
  STREAM: 'P2P_STREAM_FAILED',
  NOT_STARTED: 'P2P_NOT_STARTED',
  NO_HANDLER: 'P2P_NO_HANDLER',
  OVER_BUDGET: 'P2P_OVER_BUDGET',
} as const;

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_TX_BYTES = 128 * 1024;
/**
 * Penalty weights: a frame that breaks the protocol costs more than one message a handler rejects;
 * a message over its sender's budget costs little each, but a peer that keeps flooding reaches the
 * ban threshold after 50 of them.
 */
export const PENALTY = { BAD_FRAME: 50, INVALID_MESSAGE: DEFAULT_PENALTY, OVER_BUDGET: 2 } as const;

/**
 * Default per-peer budgets, as functions of the largest message. Honest peers stay far below them:
 * a validator sends at most a PrePrepare, a Prepare and a Commit per height (about 60 heights/s
 * at 4 validators with empty blocks back to back: bench/idleRound.ts), so 2,000 frames/s is over
 * 10× that. A syncing node asks one peer at a time and re-executes each response (64 blocks) before
 * the next request; serving is bounded by response bytes, since building and sending 16 MiB held
 * the event loop for 59–126 ms (BENCHMARKS.md, session 7).
 */
export function defaultBudgets(maxConsensusBytes: number, maxMessageBytes: number): { consensus: Budget; sync: Budget } {
  return {
    consensus: { messagesPerSecond: 2_000, messageBurst: 4_000, bytesPerSecond: 2 * maxConsensusBytes, byteBurst: 4 * maxConsensusBytes },
    sync: { messagesPerSecond: 50, messageBurst: 100, bytesPerSecond: 4 * maxMessageBytes, byteBurst: 8 * maxMessageBytes },
  };
}

export const topics = (chainId: string) => ({
  tx: `/iotchain/${chainId}/txs/1`,
  consensus: `/iotchain/${chainId}/consensus/1`,
  sync: `/iotchain/${chainId}/sync/1`,
});

const SYNC_TIMEOUT_MS = 10_000;
const SYNC_SERVE_TIMEOUT_MS = 30_000;
const STREAM_OPEN_TIMEOUT_MS = 5_000;
/** Gossipsub sends without backpressure: publishTx waits while a peer's gossip stream holds more than this. */
const GOSSIP_HIGH_WATER_BYTES = 1024 * 1024;
const GOSSIP_DRAIN_TIMEOUT_MS = 5_000;

function secpKey(privateKey: Uint8Array): PrivateKey {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) {
    throw new InvalidMessageError(ERR.CONFIG, 'the p2p private key must be 32 bytes (secp256k1)');
  }
  const key = privateKeyFromRaw(privateKey);
  if (key.type !== 'secp256k1') throw new InvalidMessageError(ERR.CONFIG, 'the p2p private key must be secp256k1');
  return key;
}

/** The libp2p peer id (base58 "16Uiu2…") of a 32-byte secp256k1 private key, e.g. to list validators in genesis. */
export function peerIdFromPrivateKey(privateKey: Uint8Array): string {
  return libp2pPeerId(secpKey(privateKey)).toString();
}

interface StaticPeer {
  id: string;
  addr: Multiaddr;
  /** Next redial delay: doubles after each failed dial or short-lived connection, back to the initial value after a stable one. */
  delayMs: number;
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
  connectedAt: number | undefined;
}

/** A connection that lasted this long counts as a success: the redial delay starts over. */
const STABLE_CONNECTION_MS = 5_000;

type Services = { identify: Identify; pubsub: GossipSub };

export async function createP2p(chainId: string, opts: P2pOptions): Promise<P2p> {
  const key = secpKey(opts.privateKey);
  const selfId = libp2pPeerId(key).toString();
  const names = topics(chainId);
  const maxMsg = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxConsensus = Math.min(maxMsg, opts.maxConsensusBytes ?? maxMsg);
  const maxTx = opts.maxTxBytes ?? DEFAULT_MAX_TX_BYTES;
  const batchLimits: TxBatchLimits = {
    maxTxBytes: maxTx,
    maxTxs: opts.txBatch?.maxTxs ?? DEFAULT_TX_BATCH.maxTxs,
    maxBytes: opts.txBatch?.maxBytes ?? DEFAULT_TX_BATCH.maxBytes,
  };
  const maxBatch = maxBatchBytes(batchLimits);
  const initialDelay = opts.reconnect?.initialMs ?? 250;
  const maxDelay = opts.reconnect?.maxMs ?? 10_000;
  const viaGossip = opts.consensusBroadcast === 'gossip';
  const noop = () => undefined;
  const log: P2pLogger = opts.log ?? { debug: noop, info: noop, warn: noop, error: noop };
  const configPeerId = (p: string, what: string): string => {
    try {
      return peerIdFromString(p).toString();
    } catch (e) {
      throw new InvalidMessageError(ERR.CONFIG, `${what} ${JSON.stringify(p)} is not a peer id: ${errorMessage(e)}`);
    }
  };
  const allowed = opts.allowedPeers === undefined ? undefined : new Set(opts.allowedPeers.map((p) => configPeerId(p, 'allowed peer')));
  const batcher = new TxBatcher({
    limits: batchLimits,
    delayMs: opts.txBatch?.delayMs ?? DEFAULT_TX_BATCH.delayMs,
    publish: async (batch) => {
      await gossipBackpressure();
      await pubsub.publish(names.tx, batch);
    },
  });
  const now = opts.now ?? Date.now;
  const scores = new PeerScores({ now, ...opts.scoring });
  const budgetDefaults = defaultBudgets(maxConsensus, maxMsg);
  const budgets = {
    consensus: new PeerBudgets({ ...budgetDefaults.consensus, ...opts.budgets?.consensus }, { now }),
    sync: new PeerBudgets({ ...budgetDefaults.sync, ...opts.budgets?.sync }, { now }),
  };
  const overBudget = { consensus: 0, sync: 0 };
  /** Charges one inbound message to `peer`'s budget on `channel`; false (counted, logged, penalized) when over it. */
  const withinBudget = (channel: 'consensus' | 'sync', peer: string, bytes: number): boolean => {
    if (budgets[channel].take(peer, bytes)) return true;
    overBudget[channel] += 1;
    penalize(peer, `${channel}: over budget`, PENALTY.OVER_BUDGET);
    return false;
  };

  const statics: StaticPeer[] = opts.peers.map((s) => {
    let addr: Multiaddr;
    try {
      addr = multiaddr(s);
    } catch (e) {
      throw new InvalidMessageError(ERR.CONFIG, `p2p peer ${JSON.stringify(s)}: ${errorMessage(e)}`);
    }
    const id = addr.getComponents().find((c) => c.name === 'p2p')?.value;
    if (id === undefined) throw new InvalidMessageError(ERR.CONFIG, `p2p peer ${s} must end in /p2p/<peerId>`);
    return { id: configPeerId(id, `p2p peer ${s}:`), addr, delayMs: initialDelay, timer: undefined, dialing: false, connectedAt: undefined };
  });

  const refused = (peer: PeerId): boolean => {
    const id = peer.toString();
    const why = allowed !== undefined && !allowed.has(id) ? 'not allowed' : scores.isBanned(id) ? 'banned' : undefined;
    if (why !== undefined) log.debug('connection refused', { peer: id, reason: why });
    return why !== undefined;
  };

  const ip = opts.host.includes(':') ? 'ip6' : 'ip4';
  installYamuxHalfWindowUpdates(); // a window update per half window, not per frame (yamuxWindow.ts)
  const libp2p: Libp2p<Services> = await createLibp2p<Services>({
    start: false,
    privateKey: key,
    addresses: { listen: [`/${ip}/${opts.host}/tcp/${opts.port}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: {
      denyDialPeer: refused,
      denyInboundEncryptedConnection: refused,
      denyOutboundEncryptedConnection: refused,
    },
    connectionManager: {
      // Our own redial loop (bounded backoff, forever) replaces libp2p's KEEP_ALIVE reconnects.
      reconnectRetries: 0,
      // Validators often share one host (devnets, tests): don't rate-limit per IP so tightly.
      inboundConnectionThreshold: 64,
      maxConnections: 256,
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictNoSign,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        // 'flood': an empty mesh (no push relay); publishing still floods every connected peer and
        // lazy gossip (IHAVE/IWANT each heartbeat) repairs a missing link
        ...(opts.txRelay === 'mesh' ? {} : { D: 0, Dlo: 0, Dhi: 0, Dscore: 0, Dout: 0 }),
        allowedTopics: viaGossip ? [names.tx, names.consensus] : [names.tx],
        maxInboundDataLength: Math.max(4 * 1024 * 1024, viaGossip ? maxMsg : maxBatch) + 64 * 1024,
        maxOutboundBufferSize: 16 * 1024 * 1024,
        // Validators may share an IP; the co-location penalty would graylist them.
        scoreParams: { IPColocationFactorWeight: 0 },
      }),
    },
  });
  const pubsub = libp2p.services.pubsub;

  let txHandler: TxHandler | undefined;
  let txBatchPreparer: TxBatchPreparer | undefined;
  let msgHandler: MessageHandler | undefined;
  let syncHandler: SyncHandler | undefined;
  const peerHandlers: PeerHandler[] = [];
  let running = false;
  let stopping: Promise<void> | undefined;

  // ---- peers ----
  const parsePeer = (peer: string): PeerId | undefined => {
    try {
      return peerIdFromString(peer);
    } catch {
      return undefined;
    }
  };
  const connectionTo = (peer: string): Connection | undefined => {
    const id = parsePeer(peer);
    return id === undefined ? undefined : libp2p.getConnections(id).find((c) => c.status === 'open');
  };

  /** The long-lived outbound consensus stream of each peer. */
  const outbound = new OutboundChannels({
    protocol: names.consensus,
    open: async (peer, protocol, signal) => {
      const conn = connectionTo(peer);
      if (conn === undefined) throw new IotchainError(P2P_ERR.NOT_CONNECTED, `not connected to ${peer}`);
      return conn.newStream(protocol, { signal });
    },
    maxQueuedBytes: 2 * maxMsg + 1024 * 1024,
    openTimeoutMs: STREAM_OPEN_TIMEOUT_MS,
    log,
  });

  // ---- scoring ----
  const penalize = (peerId: string, reason: string, weight: number = DEFAULT_PENALTY): void => {
    if (peerId === selfId) return;
    const p = scores.penalize(peerId, weight);
    log.debug('peer penalized', { peer: peerId, reason, weight, score: p.score });
    if (p.banned) {
      log.warn('peer banned', { peer: peerId, reason, until: new Date(p.bannedUntil ?? 0).toISOString() });
      outbound.close(peerId);
      const id = parsePeer(peerId);
      if (id !== undefined) libp2p.hangUp(id).catch((e: unknown) => log.debug('hang up failed', { peer: peerId, err: errorMessage(e) }));
    }
  };
  const onBadFrame = (from: string, what: string) => (reason: BadFrame, err: Error) => {
    log.debug('bad frame', { peer: from, what, reason, err: err.message });
    penalize(from, `${what}: ${reason} frame`, PENALTY.BAD_FRAME);
  };
  /** Runs a handler; InvalidMessageError scores the sender down. Never throws: returns how it went. */
  const deliver = async (h: MessageHandler, data: Uint8Array, from: string, what: string): Promise<'ok' | 'invalid' | 'failed'> => {
    try {
      await h(data, from);
      return 'ok';
    } catch (e) {
      if (e instanceof InvalidMessageError) {
        penalize(from, `${what}: ${e.code}`, PENALTY.INVALID_MESSAGE);
        return 'invalid';
      }
      log.debug(`${what} handler failed`, { peer: from, err: errorMessage(e) });
      return 'failed';
    }
  };

  // ---- consensus (direct streams) ----
  const onConsensusStream = (stream: Stream, connection: Connection): void => {
    const from = connection.remotePeer.toString();
    receiveFrames(stream, {
      maxBytes: maxConsensus,
      log,
      onBadFrame: onBadFrame(from, 'consensus'),
      onFrame: (frame) => (msgHandler === undefined || !withinBudget('consensus', from, frame.length) ? undefined : deliver(msgHandler, frame, from, 'consensus').then(noop)),
    });
  };

  // ---- sync ----
  const onSyncStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const from = connection.remotePeer.toString();
    if (!withinBudget('sync', from, 0)) {
      stream.abort(new IotchainError(P2P_ERR.OVER_BUDGET, 'sync requests over budget'));
      return;
    }
    return respond(stream, connection, {
      maxRequestBytes: SYNC_MAX_REQUEST_BYTES, // [fromHeight, maxBlocks]: a half-sent 32 MiB request held memory for 30 s

      maxResponseBytes: maxMsg,
      timeoutMs: SYNC_SERVE_TIMEOUT_MS,
      log,
      onBadFrame: onBadFrame(from, 'sync request'),
      handler: async (req) => {
        if (syncHandler === undefined) throw new IotchainError(P2P_ERR.NO_HANDLER, 'no sync handler');
        try {
          const res = await syncHandler(req, from);
          budgets.sync.charge(from, res.length);
          return res;
        } catch (e) {
          if (e instanceof InvalidMessageError) penalize(from, `sync request: ${e.code}`, PENALTY.INVALID_MESSAGE);
          throw e;
        }
      },
    });
  };

  // ---- gossip ----
  /** A batch of txs: each tx goes to the handler in order; the first invalid one rejects the batch (the rest are not looked at) and costs the relayer one penalty. */
  const deliverTxBatch = async (data: Uint8Array, from: string): Promise<TopicValidatorResult> => {
    let txs: Uint8Array[];
    try {
      txs = decodeTxBatch(data, batchLimits);
    } catch (e) {
      penalize(from, `tx gossip: ${e instanceof IotchainError ? e.code : 'undecodable'} batch`, PENALTY.BAD_FRAME);
      return TopicValidatorResult.Reject;
    }
    const h = txHandler;
    if (h === undefined) return TopicValidatorResult.Ignore;
    try {
      txBatchPreparer?.(txs);
    } catch (e) {
      log.debug('tx batch preparer failed', { peer: from, err: errorMessage(e) });
    }
    let ok = 0;
    for (const raw of txs) {
      try {
        await h(raw, from);
        ok++;
      } catch (e) {
        if (e instanceof InvalidMessageError) {
          // the batch is rejected anyway: stop spending CPU on it (an honest origin sends no invalid tx)
          penalize(from, `tx gossip: ${e.code}`, PENALTY.INVALID_MESSAGE);
          return TopicValidatorResult.Reject;
        }
        log.debug('tx gossip handler failed', { peer: from, err: errorMessage(e) });
      }
    }
    return ok > 0 ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore;
  };
  const validate = async (what: 'tx' | 'consensus', peer: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    const from = peer.toString();
    const max = what === 'tx' ? maxBatch : maxConsensus;
    if (msg.type !== 'unsigned' || msg.data.length === 0 || msg.data.length > max) {
      penalize(from, `${what} gossip: ${msg.type !== 'unsigned' ? 'signed envelope' : 'bad size'}`, PENALTY.BAD_FRAME);
      return TopicValidatorResult.Reject;
    }
    if (what === 'tx') return deliverTxBatch(msg.data, from);
    if (msgHandler === undefined || !withinBudget('consensus', from, msg.data.length)) return TopicValidatorResult.Ignore;
    const outcome = await deliver(msgHandler, msg.data, from, `${what} gossip`);
    return outcome === 'ok' ? TopicValidatorResult.Accept : outcome === 'invalid' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore;
  };
  pubsub.topicValidators.set(names.tx, (peer, msg) => validate('tx', peer, msg));
  if (viaGossip) pubsub.topicValidators.set(names.consensus, (peer, msg) => validate('consensus', peer, msg));

  /** Waits (bounded) while any outbound gossip stream holds more than the high-water mark. */
  const gossipBackpressure = async (): Promise<void> => {
    for (const conn of libp2p.getConnections()) {
      for (const s of conn.streams) {
        if (s.direction !== 'outbound' || !pubsub.protocols.includes(s.protocol)) continue;
        if (s.writeBufferLength > GOSSIP_HIGH_WATER_BYTES || s.writableNeedsDrain) {
          await s.onDrain({ signal: AbortSignal.timeout(GOSSIP_DRAIN_TIMEOUT_MS) }).catch(noop);
        }
      }
    }
  };

  // ---- peers and reconnection ----
  const staticById = new Map(statics.map((s) => [s.id, s]));
  const connected = (id: string): boolean => connectionTo(id) !== undefined;
  /** Schedules the next dial of a static peer after its current delay (or its ban), then doubles the delay. */
  const scheduleDial = (sp: StaticPeer): void => {
    if (!running || sp.timer !== undefined) return;
    const banEnd = scores.bannedUntil(sp.id);
    const wait = Math.max(sp.delayMs * (0.8 + 0.4 * Math.random()), banEnd === undefined ? 0 : banEnd - now());
    sp.delayMs = Math.min(maxDelay, sp.delayMs * 2);
    sp.timer = setTimeout(() => {
      sp.timer = undefined;
      void dialStatic(sp);
    }, wait);
    sp.timer.unref();
  };
  const dialStatic = async (sp: StaticPeer): Promise<void> => {
    if (!running || sp.dialing || connected(sp.id)) return;
    sp.dialing = true;
    try {
      await libp2p.dial(sp.addr, { signal: AbortSignal.timeout(Math.max(2_000, maxDelay)) });
    } catch (e) {
      log.debug('dial failed', { peer: sp.id, addr: sp.addr.toString(), err: errorMessage(e), retryMs: sp.delayMs });
      scheduleDial(sp);
    } finally {
      sp.dialing = false;
    }
  };

  const notifyPeer = (id: string, up: boolean): void => {
    for (const h of peerHandlers) {
      try {
        h(id, up);
      } catch (e) {
        log.error('peer handler failed', { peer: id, err: errorMessage(e) });
      }
    }
  };
  libp2p.addEventListener('peer:connect', (evt) => {
    const id = evt.detail.toString();
    const sp = staticById.get(id);
    if (sp !== undefined) sp.connectedAt = Date.now();
    log.debug('peer connected', { peer: id });
    notifyPeer(id, true);
  });
  libp2p.addEventListener('peer:disconnect', (evt) => {
    const id = evt.detail.toString();
    outbound.close(id);
    log.debug('peer disconnected', { peer: id });
    notifyPeer(id, false);
    const sp = staticById.get(id);
    if (sp === undefined || !running) return;
    // A peer that drops us right away (e.g. refuses us) is redialled with growing delays, not in a tight loop.
    if (sp.connectedAt !== undefined && Date.now() - sp.connectedAt >= STABLE_CONNECTION_MS) sp.delayMs = initialDelay;
    sp.connectedAt = undefined;
    scheduleDial(sp);
  });

  const p2p: P2p = {
    peerId: selfId,
    get multiaddrs(): string[] {
      return libp2p.getMultiaddrs().map((m) => m.toString());
    },
    async start() {
      if (running) return;
      if (stopping !== undefined) throw new IotchainError(P2P_ERR.NOT_STARTED, 'a stopped p2p cannot be restarted; create a new one');
      await libp2p.handle(names.consensus, onConsensusStream, { maxInboundStreams: 4, maxOutboundStreams: 4 });
      await libp2p.handle(names.sync, onSyncStream, { maxInboundStreams: 16, maxOutboundStreams: 16 });
      await libp2p.start();
      pubsub.subscribe(names.tx);
      if (viaGossip) pubsub.subscribe(names.consensus);
      running = true;
      for (const sp of statics) void dialStatic(sp);
      log.info('p2p started', { peerId: selfId, addrs: p2p.multiaddrs, peers: statics.length });
    },
    stop() {
      stopping ??= (async () => {
        running = false;
        batcher.close(new IotchainError(P2P_ERR.NOT_STARTED, 'p2p stopped before the tx batch was published'));
        for (const sp of statics) {
          if (sp.timer !== undefined) clearTimeout(sp.timer);
          sp.timer = undefined;
        }
        outbound.closeAll();
        await libp2p.stop();
        log.info('p2p stopped', { peerId: selfId });
      })();
      return stopping;
    },
    connectedPeers() {
      const ids = new Set<string>();
      for (const c of libp2p.getConnections()) if (c.status === 'open') ids.add(c.remotePeer.toString());
      return [...ids];
    },
    gossipPeers() {
      return pubsub.getSubscribers(names.tx).map((p) => p.toString());
    },
    gossipMeshPeers() {
      // the implementation class has it; the exported GossipSub interface does not declare it
      const impl = pubsub as unknown as { getMeshPeers?: (topic: string) => string[] };
      return impl.getMeshPeers?.(names.tx) ?? [];
    },
    async publishTx(raw) {
      if (!running) throw new IotchainError(P2P_ERR.NOT_STARTED, 'p2p is not running');
      if (raw.length === 0 || raw.length > maxTx) throw new InvalidMessageError(ERR.TOO_LARGE, `tx of ${raw.length} bytes is outside 1..${maxTx}`);
      await batcher.add(raw);
    },
    onTx(handler) {
      txHandler = handler;
    },
    onTxBatch(prepare) {
      txBatchPreparer = prepare;
    },
    allowPeers(peerIds) {
      if (allowed === undefined) return;
      for (const p of peerIds) allowed.add(configPeerId(p, 'allowed peer'));
    },
    async broadcast(msg) {
      if (!running) throw new IotchainError(P2P_ERR.NOT_STARTED, 'p2p is not running');
      if (msg.length > maxMsg) throw new InvalidMessageError(ERR.TOO_LARGE, `message of ${msg.length} bytes exceeds ${maxMsg}`);
      if (viaGossip) {
        await pubsub.publish(names.consensus, msg);
        return;
      }
      const targets = p2p.connectedPeers().filter((id) => allowed === undefined || allowed.has(id));
      await Promise.all(
        targets.map((id) => outbound.write(id, msg).catch((e: unknown) => log.debug('broadcast: send failed', { peer: id, err: errorMessage(e) }))),
      );
    },
    async send(peerId, msg) {
      if (!running) throw new IotchainError(P2P_ERR.NOT_STARTED, 'p2p is not running');
      if (msg.length > maxMsg) throw new InvalidMessageError(ERR.TOO_LARGE, `message of ${msg.length} bytes exceeds ${maxMsg}`);
      if (peerId === selfId) throw new IotchainError(P2P_ERR.NOT_CONNECTED, 'cannot send to ourselves');
      try {
        await outbound.write(peerId, msg);
      } catch (e) {
        if (e instanceof IotchainError) throw e;
        throw new IotchainError(P2P_ERR.STREAM, `send to ${peerId} failed: ${errorMessage(e)}`);
      }
    },
    onMessage(handler) {
      msgHandler = handler;
    },
    serveSync(handler) {
      syncHandler = handler;
    },
    async requestSync(peerId, req, timeoutMs = SYNC_TIMEOUT_MS) {
      if (!running) throw new IotchainError(P2P_ERR.NOT_STARTED, 'p2p is not running');
      if (req.length > maxMsg) throw new InvalidMessageError(ERR.TOO_LARGE, `sync request of ${req.length} bytes exceeds ${maxMsg}`);
      const conn = connectionTo(peerId);
      if (conn === undefined) throw new IotchainError(P2P_ERR.NOT_CONNECTED, `not connected to ${peerId}`);
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const stream = await conn.newStream(names.sync, { signal });
        return await request(stream, req, { maxResponseBytes: maxMsg, signal });
      } catch (e) {
        if (signal.aborted) throw new IotchainError(P2P_ERR.TIMEOUT, `sync request to ${peerId} timed out after ${timeoutMs} ms`);
        const err = e instanceof Error ? e : new Error(String(e));
        const bad = badFrameOf(err);
        if (bad !== undefined) {
          penalize(peerId, `sync response: ${bad} frame`, PENALTY.BAD_FRAME);
          throw new InvalidMessageError(bad === 'oversize' ? ERR.TOO_LARGE : ERR.ENCODING, `sync response from ${peerId}: ${err.message}`);
        }
        throw new IotchainError(P2P_ERR.STREAM, `sync request to ${peerId} failed: ${err.message}`);
      }
    },
    penalize,
    peerScore: (peerId) => scores.score(peerId),
    isBanned: (peerId) => scores.isBanned(peerId),
    onPeer(handler) {
      peerHandlers.push(handler);
    },
    overBudget: () => ({ ...overBudget }),
  };
  return p2p;
}
