// The anchoring daemon (paper §4.2.2 steps 1–6; SPEC §5.4). Off-chain: the state machine never imports
// this file. It watches one table of a DataStore and, for every m new rows (by id, up to the store's
// committed horizon), splits them into min(m, n) sub-tables, hashes each as an RFC 6962 leaf over its
// canonical row bytes, anchors the root with receipts/storeRootHash, waits for the commit, and writes
// one receipt per sub-table to the receipts directory, apart from the data.
//
// Crash safety. Progress lives in DIR/<table>/state.json {lastId, batches, pending}. For each batch:
//   1. hash, build and sign the tx, then save it as `pending` (with the leaf hashes and ranges);
//   2. send it and wait for its commit;
//   3. write the receipts (idempotent: same names, same contents);
//   4. save {lastId: batch end, batches + 1, pending: none}.
// On start a pending anchor is reconciled before anything else: the tx is looked up by hash (sent
// again if the node never saw it; rebuilt with a fresh nonce, and saved as pending first, if its
// nonce was taken meanwhile and the root is not on chain), and the anchor read back from the chain.
// A crash anywhere therefore neither skips rows (lastId moves only after the receipts exist) nor
// anchors them twice (a batch is sent again only while the chain does not have it, and the module
// refuses a second anchor of the same root or of an overlapping id range by the same submitter).
import { toHex, fromHex, bytesEqual } from '../../lib/hex.js';
import { ERR, InternalError, InvalidMessageError } from '../../lib/errors.js';
import { addressOf, type KeyPair } from '../../crypto/keys.js';
import { indexModules, type ModuleIndex } from '../registry.js';
import type { NativeModule } from '../module.js';
import { buildModuleTx } from '../txBuilder.js';
import { RpcClient, RpcError, type TxStatusJson } from '../../rpc/client.js';
import { receiptsModule } from './index.js';
import { RECEIPTS_ERR } from './errors.js';
import type { AnchorJson, AnchorMeta, TableHeadJson } from './types.js';
import type { DataStore } from './dataStore.js';
import { checkTableName } from './dataStore.js';
import { MerkleLevels, splitBatch, subTableLeaf, subTableSizes, type Receipt } from './merkleReceipt.js';
import { ReceiptDir, type AnchorState, type PendingAnchor } from './receiptDir.js';

/** Named points where tests inject a crash (a thrown error ends the daemon's run there). */
export type AnchorFailpoint = 'pending-saved' | 'submitted' | 'receipts-written';

export interface AnchorDaemonOptions {
  store: DataStore;
  table: string;
  m: number;
  n: number;
  /** The online key that signs storeRootHash. */
  key: KeyPair;
  client: RpcClient;
  receipts: ReceiptDir;
  fee?: bigint;
  /**
   * The identity the chain files anchors under (the offline address whose registered online key is
   * `key`), used until the chain has told us. Default: the key's own address.
   */
  identity?: Uint8Array;
  /** How long to wait for a commit (default 60 s). */
  waitTimeoutMs?: number;
  failpoint?: (point: AnchorFailpoint) => void | Promise<void>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface AnchoredBatch {
  table: string;
  batch: number;
  root: string;
  firstId: number;
  lastId: number;
  rows: number;
  subTables: number;
  height: number;
  txHash: string;
  submitter: string;
  /** Whether this run found the batch pending from an earlier run and completed it. */
  recovered: boolean;
}

const MODULES: ModuleIndex = indexModules([receiptsModule as unknown as NativeModule]);

function sameMeta(a: AnchorMeta, b: AnchorMeta): boolean {
  return a.table === b.table && a.m === b.m && a.n === b.n && a.firstId === b.firstId && a.lastId === b.lastId;
}

export class AnchorDaemon {
  private readonly o: AnchorDaemonOptions;
  private readonly address: Uint8Array;
  private chainId: string | undefined;
  private state: AnchorState | undefined;

  constructor(opts: AnchorDaemonOptions) {
    checkTableName(opts.table);
    subTableSizes(opts.m, opts.n); // validates m and n
    this.o = opts;
    this.address = addressOf(opts.key.type, opts.key.publicKey);
  }

  private log(msg: string, fields?: Record<string, unknown>): void {
    this.o.log?.(msg, fields);
  }

  private get identity(): Uint8Array {
    return this.state?.submitter ?? this.o.identity ?? this.address;
  }

  private async loadState(): Promise<AnchorState> {
    if (this.state) return this.state;
    await this.o.receipts.sweep(this.o.table);
    const s = (await this.o.receipts.loadState(this.o.table)) ?? { table: this.o.table, lastId: 0, batches: 0, submitter: undefined, pending: undefined };
    this.chainId ??= (await this.o.client.status()).chainId;
    if (!s.pending) await this.checkAgainstChain(s);
    this.state = s;
    return s;
  }

  /** Without a pending anchor, the chain must hold exactly the batches the state records. */
  private async checkAgainstChain(s: AnchorState): Promise<void> {
    const who = s.submitter ?? this.o.identity ?? this.address;
    const head = (await this.o.client.query('receipts/anchorHead', { submitter: toHex(who), table: s.table })).value as TableHeadJson;
    if (head.count !== s.batches || (head.lastId ?? 0) !== s.lastId) {
      throw new InternalError(
        'ANCHOR_STATE_DIVERGED',
        `table ${s.table}: the chain holds ${head.count} batch(es) by ${toHex(who)} up to id ${head.lastId ?? 0}, ` +
          `but ${this.o.receipts.statePath(s.table)} records ${s.batches} up to id ${s.lastId}; refusing to anchor (restore the receipts directory)`,
      );
    }
  }

  private async save(s: AnchorState): Promise<void> {
    await this.o.receipts.saveState(s);
    this.state = s;
  }

  /**
   * Completes a pending anchor if there is one, else anchors the next complete batch. Returns the
   * batch anchored, or undefined when fewer than m rows are waiting below the committed horizon.
   */
  async step(): Promise<AnchoredBatch | undefined> {
    const s = await this.loadState();
    if (s.pending) return this.complete(s.pending, true);
    const horizon = await this.o.store.horizon(this.o.table);
    const rows = await this.o.store.read(this.o.table, s.lastId, horizon, this.o.m);
    if (rows.length < this.o.m) return undefined;
    const subs = splitBatch(rows, this.o.n, s.lastId + 1);
    const leaves = subs.map((x) => subTableLeaf(x.rows));
    const root = new MerkleLevels(leaves).root;
    const meta: AnchorMeta = { table: this.o.table, m: this.o.m, n: this.o.n, firstId: s.lastId + 1, lastId: rows[rows.length - 1]!.id };
    const nonce = (await this.o.client.getAccount(toHex(this.address))).nonce;
    const pending: PendingAnchor = {
      batch: s.batches,
      meta,
      root,
      leaves,
      ranges: subs.map((x) => ({ firstId: x.firstId, lastId: x.lastId })),
      ...this.buildTx(root, meta, nonce),
    };
    await this.save({ ...s, pending });
    await this.o.failpoint?.('pending-saved');
    return this.complete(pending, false);
  }

  /** Anchors every complete batch, then returns them (the `--once` mode). */
  async runOnce(onBatch?: (b: AnchoredBatch) => void): Promise<AnchoredBatch[]> {
    const out: AnchoredBatch[] = [];
    for (;;) {
      const b = await this.step();
      if (!b) return out;
      out.push(b);
      onBatch?.(b);
    }
  }

  /** Polls until `signal` aborts: anchors what is ready, releases the store, waits pollMs. */
  async run(signal: AbortSignal, pollMs: number, onBatch?: (b: AnchoredBatch) => void): Promise<void> {
    while (!signal.aborted) {
      await this.runOnce(onBatch);
      await this.o.store.release();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done);
      });
    }
  }

  private buildTx(root: Uint8Array, meta: AnchorMeta, nonce: number): { txHash: Uint8Array; rawTx: Uint8Array; nonce: number } {
    const tx = buildModuleTx({
      modules: MODULES,
      key: this.o.key,
      chainId: this.chainId!,
      nonce,
      fee: this.o.fee ?? 0n,
      module: 'receipts',
      method: 'storeRootHash',
      args: { hash: toHex(root), meta },
    });
    return { txHash: fromHex(tx.hash, 'tx hash', 32), rawTx: tx.raw, nonce };
  }

  private async anchorOnChain(root: Uint8Array, submitter: Uint8Array): Promise<AnchorJson> {
    return (await this.o.client.query('receipts/verifyRootHash', { hash: toHex(root), submitter: toHex(submitter) })).value as AnchorJson;
  }

  /** Sends (again) when needed, waits for the commit, writes the receipts and advances the state. */
  private async complete(p: PendingAnchor, recovered: boolean): Promise<AnchoredBatch> {
    let pending = p;
    const timeoutMs = this.o.waitTimeoutMs ?? 60_000;
    for (let attempt = 0; attempt < 5; attempt++) {
      let st: TxStatusJson = await this.o.client.getTx(toHex(pending.txHash));
      if (st.status === 'unknown') {
        const sent = await this.send(pending);
        if (sent === 'nonce-taken') {
          const onChain = await this.anchorOnChain(pending.root, this.identity);
          if (onChain.found) return this.finish(pending, onChain, recovered);
          const nonce = (await this.o.client.getAccount(toHex(this.address))).nonce;
          pending = { ...pending, ...this.buildTx(pending.root, pending.meta, nonce) };
          this.log('rebuilt anchor tx with a fresh nonce', { batch: pending.batch, nonce });
          await this.save({ ...this.state!, pending });
          continue;
        }
        await this.o.failpoint?.('submitted');
        st = await this.o.client.waitForTx(toHex(pending.txHash), { timeoutMs });
      } else if (st.status === 'pending') {
        st = await this.o.client.waitForTx(toHex(pending.txHash), { timeoutMs });
      }
      if (st.status === 'committed') {
        const ev = st.events?.find((e) => e.module === 'receipts' && e.type === 'anchor');
        const submitter = ev?.attributes.find(([k]) => k === 'submitter')?.[1];
        const onChain = await this.anchorOnChain(pending.root, submitter ? fromHex(submitter, 'event submitter', 20) : this.identity);
        if (!onChain.found) throw new InternalError(ERR.NOT_FOUND, `tx ${toHex(pending.txHash)} committed but root ${toHex(pending.root)} is not on chain`);
        return this.finish(pending, onChain, recovered);
      }
      if (st.status === 'failed') {
        if (st.error?.code === RECEIPTS_ERR.DUPLICATE_ANCHOR) {
          const onChain = await this.anchorOnChain(pending.root, this.identity);
          if (onChain.found) return this.finish(pending, onChain, recovered);
        }
        // The batch is not on chain and this tx can never put it there (its nonce is spent): forget it,
        // so that the next run builds a new one once the cause (key not registered, …) is fixed.
        await this.save({ ...this.state!, pending: undefined });
        throw new InvalidMessageError(st.error?.code ?? 'ANCHOR_TX_FAILED', `anchor tx ${toHex(pending.txHash)} for rows ${pending.meta.firstId}..${pending.meta.lastId} failed: ${st.error?.message ?? 'unknown error'}`);
      }
    }
    throw new InternalError('ANCHOR_GAVE_UP', `could not get the anchor of rows ${pending.meta.firstId}..${pending.meta.lastId} committed`);
  }

  private async send(p: PendingAnchor): Promise<'sent' | 'nonce-taken'> {
    try {
      await this.o.client.sendTx(p.rawTx);
      return 'sent';
    } catch (e) {
      if (e instanceof RpcError && e.appCode === ERR.DUPLICATE) return 'sent'; // already in the mempool
      if (e instanceof RpcError && e.appCode === ERR.BAD_NONCE) return 'nonce-taken';
      throw e;
    }
  }

  private async finish(p: PendingAnchor, a: Extract<AnchorJson, { found: true }>, recovered: boolean): Promise<AnchoredBatch> {
    const same = a.batch === p.batch && sameMeta(a.meta, p.meta);
    if (!same) throw new InternalError('ANCHOR_STATE_DIVERGED', `root ${a.hash} is on chain as batch ${a.batch} ${JSON.stringify(a.meta)}, expected batch ${p.batch} ${JSON.stringify(p.meta)}`);
    const tree = new MerkleLevels(p.leaves);
    if (!bytesEqual(tree.root, p.root)) throw new InternalError(ERR.DB_CORRUPT, `pending anchor of rows ${p.meta.firstId}..${p.meta.lastId}: leaves do not give its root`);
    const sizes = subTableSizes(p.meta.m, p.meta.n);
    const submitter = fromHex(a.submitter, 'submitter', 20);
    for (const [i, leaf] of p.leaves.entries()) {
      const r: Receipt = {
        table: p.meta.table,
        m: p.meta.m,
        n: p.meta.n,
        batch: p.batch,
        batchFirstId: p.meta.firstId,
        batchLastId: p.meta.lastId,
        firstId: p.ranges[i]!.firstId,
        lastId: p.ranges[i]!.lastId,
        rows: sizes[i]!,
        leafIndex: i,
        treeSize: p.leaves.length,
        targetHash: leaf,
        merkleRoot: p.root,
        proof: tree.proof(i),
        anchor: { chainId: this.chainId!, txHash: fromHex(a.txHash, 'txHash', 32), height: a.height, time: a.time, submitter },
      };
      await this.o.receipts.writeReceipt(r);
    }
    await this.o.failpoint?.('receipts-written');
    await this.save({ table: p.meta.table, lastId: p.meta.lastId, batches: p.batch + 1, submitter, pending: undefined });
    const out: AnchoredBatch = {
      table: p.meta.table,
      batch: p.batch,
      root: toHex(p.root),
      firstId: p.meta.firstId,
      lastId: p.meta.lastId,
      rows: p.meta.m,
      subTables: p.leaves.length,
      height: a.height,
      txHash: a.txHash,
      submitter: a.submitter,
      recovered,
    };
    this.log('anchored', { ...out });
    return out;
  }
}
