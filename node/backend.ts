// The node's implementation of the RPC backend interface (rpc/backend.ts).
import { EventEmitter } from 'node:events';
import type { EvidenceStore } from './evidence.js';
import type { RpcBackend, EvidenceJson, StatusJson, BlockJson, TxStatusJson, QueryResultJson, NewBlockEvent } from '../rpc/backend.js';
import type { App } from '../protocols/app.js';
import type { Mempool } from '../mempool/mempool.js';
import { runQuery } from '../protocols/query.js';
import { encode, decode } from '../lib/encoding.js';
import { signedTxCodec, txIdOf, MAX_TX_BYTES } from '../state/tx.js';
import { toHex } from '../lib/hex.js';
import { TwoGenerationCache } from '../lib/twoGenCache.js';
import pLimit from 'p-limit';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { keccak256 } from '../crypto/hash.js';
import { commitCertificateCodec, headerCodec, headerToJson, validatorAddress, type TxResult } from '../state/block.js';
import type { CommittedBlock } from '../state/application.js';
import type { DecodedTx } from '../state/tx.js';

/** Queries in the application's queue at once (see NodeBackend.query). */
export const QUERY_CONCURRENCY = 4;

export class NodeBackend implements RpcBackend {
  private readonly events = new EventEmitter();
  /** Live tx subscriptions (onTx): when none, a commit skips the per-tx lookups. */
  private txWatchers = 0;

  constructor(
    private readonly app: App,
    private readonly mempool: Mempool,
    private readonly onTxAdded: (tx: DecodedTx) => void,
    private readonly evidenceStore: EvidenceStore,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Called by the node after each commit: notifies subscribers. */
  committed(b: CommittedBlock): void {
    if (this.events.listenerCount('block') > 0) {
      const ev: NewBlockEvent = { height: b.header.height, hash: toHex(b.hash), time: b.header.time, txs: b.txIdsHex };
      this.events.emit('block', ev);
    }
    if (this.txWatchers === 0) return;
    b.txIdsHex.forEach((hex, index) => {
      if (this.events.listenerCount('tx:' + hex) > 0) this.events.emit('tx:' + hex, statusOf(hex, b.header.height, index, b.results[index]!));
    });
  }

  status(): StatusJson {
    const i = this.app.info();
    return {
      chainId: i.chainId,
      height: i.height,
      headHash: toHex(i.headHash),
      headTime: i.headTime,
      stateRoot: toHex(i.stateRoot),
      validators: i.validators.map((v) => ({ name: v.name, consensusKey: toHex(v.consensusKey), peerId: v.peerId, power: v.power, address: toHex(validatorAddress(v)) })),
    };
  }

  /**
   * The parts of a block's JSON that never change, by height: decoding a full block and hashing each of
   * its txs took ~29 ms per chain_getBlock of a 2,000-tx block, and a batch asks for the same block
   * many times (audit, session 7). The certificate is read each time (a fuller one may replace it).
   */
  private readonly blockJson = new TwoGenerationCache<number, Omit<BlockJson, 'certificate' | 'certificateHex'>>(64, {
    maxSize: 32 * 1024 * 1024,
    sizeOf: (b) => 1024 + 70 * b.txs.length,
  });

  async getBlock(height: number): Promise<BlockJson | undefined> {
    const cert = this.app.blocks.certificate(height);
    if (!cert) return undefined;
    let fixed = this.blockJson.get(height);
    if (fixed === undefined) {
      const block = this.app.blocks.block(height);
      if (!block) return undefined;
      const headerBytes = encode(headerCodec, block.header);
      fixed = { header: headerToJson(block.header), hash: toHex(keccak256(headerBytes)), txs: block.txs.map((raw) => toHex(txIdOfRaw(raw))), headerHex: toHex(headerBytes) };
      this.blockJson.set(height, fixed);
    }
    return {
      header: fixed.header,
      hash: fixed.hash,
      txs: fixed.txs,
      certificate: commitCertificateCodec.toJson(cert) as Record<string, unknown>,
      certificateHex: toHex(encode(commitCertificateCodec, cert)),
      headerHex: fixed.headerHex,
    };
  }

  /** A batch's txs are signature-checked back to back before they are admitted one by one. */
  prepareTxs(raws: Uint8Array[]): void {
    this.app.verifyAhead(raws);
  }

  async sendTx(raw: Uint8Array): Promise<{ hash: string }> {
    const tx = this.mempool.add(raw);
    this.onTxAdded(tx);
    return { hash: tx.idHex };
  }

  async getTx(hash: Uint8Array): Promise<TxStatusJson> {
    const hex = toHex(hash);
    const loc = this.app.blocks.txLocation(hash);
    if (loc) {
      const r = this.resultsOf(loc.height)?.[loc.index];
      if (r) return statusOf(hex, loc.height, loc.index, r);
    }
    if (this.mempool.has(hex)) return { hash: hex, status: 'pending' };
    return { hash: hex, status: 'unknown' };
  }

  /** Decoded results by height: a tx lookup decodes its whole block's results (~10 ms at 2,000 txs), and lookups come in batches. */
  private readonly results = new TwoGenerationCache<number, TxResult[]>(16, { maxSize: 40_000, sizeOf: (r) => 1 + r.length });

  private resultsOf(height: number): TxResult[] | undefined {
    let r = this.results.get(height);
    if (r === undefined) {
      r = this.app.blocks.results(height);
      if (r !== undefined) this.results.set(height, r);
    }
    return r;
  }

  async getAccount(address: Uint8Array): Promise<{ balance: string; nonce: number }> {
    const a = this.app.account(address);
    return { balance: a.balance.toString(10), nonce: a.nonce };
  }

  /**
   * Queries run in the application's queue, the one consensus commits through: at most
   * QUERY_CONCURRENCY are in it at once, the others wait here. (2,000 queued proven queries raised an
   * empty block's commit from 4.4 to 176 ms: audit, session 7; now a commit waits for at most four.)
   */
  private readonly querySlots = pLimit(QUERY_CONCURRENCY);

  query(path: string, args: unknown, prove: boolean): Promise<QueryResultJson> {
    return this.querySlots(() => runQuery(this.app, path, args, prove));
  }

  /** Queries waiting for a slot (tests, metrics). */
  get queriesWaiting(): number {
    return this.querySlots.pendingCount;
  }

  evidence(limit: number): Promise<EvidenceJson[]> {
    return this.evidenceStore.list(limit);
  }

  onNewBlock(listener: (ev: NewBlockEvent) => void): () => void {
    this.events.on('block', listener);
    return () => this.events.off('block', listener);
  }

  onTx(hash: Uint8Array, listener: (status: TxStatusJson) => void): () => void {
    const name = 'tx:' + toHex(hash);
    this.events.on(name, listener);
    this.txWatchers++;
    let on = true;
    return () => {
      if (!on) return;
      on = false;
      this.txWatchers--;
      this.events.off(name, listener);
    };
  }
}

function statusOf(hash: string, height: number, index: number, r: TxResult): TxStatusJson {
  return r.code === ''
    ? { hash, status: 'committed', height, index, events: r.events }
    : { hash, status: 'failed', height, index, error: { code: r.code, message: r.message }, events: r.events };
}

/** tx id (SHA-256 of the encoded body) of a raw tx already in a committed block; no signature check. */
function txIdOfRaw(raw: Uint8Array): Uint8Array {
  try {
    return txIdOf(decode(signedTxCodec, raw, 'tx', MAX_TX_BYTES).body);
  } catch (e) {
    throw new InvalidMessageError(ERR.DB_CORRUPT, `stored transaction does not decode: ${(e as Error).message}`);
  }
}
