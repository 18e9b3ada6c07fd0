// The application: implements the consensus seam (state/application.ts) over the modules, the
// flat state, the authenticated tree and the block store. Every public operation runs through one
// serial queue, so execution, commits and proven queries always see one consistent committed state.
import type { KvStore, BatchOp } from '../state/kvStore.js';
import { Overlay } from '../state/overlay.js';
import { AuthTree, type StagedTree } from '../state/authTree.js';
import { BlockStore, GENESIS_HASH, type Head } from '../state/blockStore.js';
import type { Application, ChainInfo, CommittedBlock, Proposal, ProposalRequest, ProcessResult } from '../state/application.js';
import { blockHash, encodeTxResults, resultsRootOfEncoded, txResultCodec, txRoot, validatorSetHash, type Block, type BlockHeader, type CommitCertificate, type TxResult, type Validator } from '../state/block.js';
import type { Genesis } from '../state/genesis.js';
import { forgetDecodedTxs, verifyAhead, type DecodedTx } from '../state/tx.js';
import { bytesEqual, bytesKey, toHex } from '../lib/hex.js';
import { decodeTrusted } from '../lib/encoding.js';
import { InternalError, InvalidMessageError, ERR } from '../lib/errors.js';
import { scopedStore, scopedReader, type BlockInfo, type ReaderAccess } from './module.js';
import { indexModules, type ModuleIndex } from './registry.js';
import { executeTxs, endBlock, checkIncludable, TxNotIncludable, storeAccess, type ExecEnv } from './execute.js';
import { readAccount } from './bank/index.js';
import type { NativeModule } from './module.js';

interface Staged {
  block: Block;
  hash: Uint8Array;
  overlay: Overlay;
  tree: StagedTree;
  ids: Uint8Array[];
  idsHex: string[];
  /**
   * The results' canonical encodings (the resultsRoot leaves; stored as the block's results list).
   * The TxResult objects the execution built are not kept: see CommittedView.
   */
  encodedResults: Uint8Array[];
}

/**
 * A committed block whose results are decoded from their encodings when first read. Holding the
 * execution's TxResult objects from execution to commit (an object, an events array, an event, its
 * attribute pairs and their strings: about ten per transfer) kept them alive across a scavenge,
 * which copies every live young object; now they die young. Their readers, tx subscriptions and
 * tests, decode them once per block.
 */
class CommittedView implements CommittedBlock {
  private decoded: TxResult[] | undefined;
  constructor(
    readonly header: BlockHeader,
    readonly hash: Uint8Array,
    readonly txIds: Uint8Array[],
    readonly txIdsHex: string[],
    private readonly encodedResults: readonly Uint8Array[],
    readonly certificate: CommitCertificate,
  ) {}

  get results(): TxResult[] {
    return (this.decoded ??= this.encodedResults.map((b, i) => decodeTrusted(txResultCodec, b, `result ${i}`)));
  }
}

export interface AppOptions {
  store: KvStore;
  genesis: Genesis;
  modules: NativeModule[];
  /** Local clock (ms) for the block-time rule; injected so tests use a simulated clock. */
  now?: () => number;
}

const ACCOUNT_CACHE_MAX = 100_000;

/** A simple FIFO mutex: one operation at a time. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class App implements Application {
  readonly chainId: string;
  readonly env: ExecEnv;
  readonly blocks: BlockStore;
  private headState: Head;
  private readonly staged = new Map<string, Staged>();
  private readonly serial = new Serial();
  private readonly now: () => number;

  private constructor(
    readonly store: KvStore,
    readonly genesis: Genesis,
    readonly modules: ModuleIndex,
    readonly tree: AuthTree,
    head: Head,
    now: () => number,
  ) {
    this.chainId = genesis.chainId;
    this.env = { chainId: genesis.chainId, params: genesis.params, modules };
    this.blocks = new BlockStore(store);
    this.headState = head;
    this.now = now;
  }

  /** Opens the application on `store`: resumes from the stored head, or writes the genesis state. */
  static async open(opts: AppOptions): Promise<App> {
    const modules = indexModules(opts.modules);
    const tree = await AuthTree.open(opts.store, { bucketBits: opts.genesis.params.stateBucketBits });
    const blocks = new BlockStore(opts.store);
    let head = blocks.head();
    if (!head) {
      for (const name of Object.keys(opts.genesis.modules)) {
        if (!modules.byName.has(name)) throw new InvalidMessageError(ERR.CONFIG, `genesis: section for unknown module "${name}"`);
      }
      const overlay = new Overlay(opts.store);
      const access = storeAccess(overlay);
      for (const m of modules.list) {
        m.genesis?.({ state: scopedStore(overlay, m.id), chainId: opts.genesis.chainId, time: opts.genesis.genesisTime, access, validators: opts.genesis.validators }, opts.genesis.modules[m.name]);
      }
      const changes = overlay.changes();
      const staged = await tree.stage(changes);
      head = { height: 0, hash: GENESIS_HASH, time: opts.genesis.genesisTime, stateRoot: staged.root };
      await opts.store.batch([...changeOps(changes), ...staged.ops, ...blocks.headOps(head)]);
      staged.apply();
    } else if (!bytesEqual(head.stateRoot, tree.root)) {
      throw new InternalError(ERR.DB_CORRUPT, `state tree root ${toHex(tree.root)} does not match the head's state root ${toHex(head.stateRoot)}`);
    }
    return new App(opts.store, opts.genesis, modules, tree, head, opts.now ?? Date.now);
  }

  get head(): Head {
    return this.headState;
  }

  info(): ChainInfo {
    return {
      chainId: this.chainId,
      height: this.headState.height,
      headHash: this.headState.hash,
      headTime: this.headState.time,
      stateRoot: this.headState.stateRoot,
      validators: this.validators(),
    };
  }

  /**
   * The validator set in force for the next block (head + 1): from the validators module's
   * committed state when it is registered (validator-set changes), else the genesis set.
   */
  validators(): Validator[] {
    for (const m of this.modules.list) {
      if (m.validatorSet) return m.validatorSet(scopedReader(this.store, m.id)) ?? this.genesis.validators;
    }
    return this.genesis.validators;
  }

  /** Readers of the committed state (one object per App: it was made per call, per tx). */
  readerAccess(): ReaderAccess {
    return this.committedReaders;
  }

  private readonly committedReaders: ReaderAccess = { readerOf: (id) => scopedReader(this.store, id) };

  /**
   * Committed accounts read since the last commit (admission and the mempool ask for the same
   * senders many times per block: a LevelDB read and a decode each). Cleared at every commit.
   */
  private readonly accounts = new Map<string, Readonly<{ nonce: number; balance: bigint }>>();

  private committedAccount = (sender: Uint8Array): Readonly<{ nonce: number; balance: bigint }> => {
    const k = bytesKey(sender);
    let a = this.accounts.get(k);
    if (a === undefined) {
      a = readAccount(this.readerAccess(), sender); // frozen by the bank's reader: callers share it
      if (this.accounts.size >= ACCOUNT_CACHE_MAX) this.accounts.clear();
      this.accounts.set(k, a);
    }
    return a;
  };

  /**
   * Mempool admission against the committed state: stateless checks, minimum fee, a nonce not yet
   * used, a balance that covers the fee. (Exact nonce order is the mempool's and the block's concern.)
   */
  checkTx(raw: Uint8Array): DecodedTx {
    return checkIncludable(this.env, raw, this.committedAccount, 'admission');
  }

  /**
   * Decodes and signature-checks a batch of txs back to back ahead of their admission one by one
   * (state/tx.ts verifyAhead: the outcomes are cached for checkTx). Returns how many passed; never throws.
   */
  verifyAhead(raws: readonly Uint8Array[], stopAtFailure = false): number {
    return verifyAhead(raws, this.chainId, stopAtFailure);
  }

  /** Committed account of `address` (balance, next nonce). */
  account(address: Uint8Array) {
    return this.committedAccount(address);
  }

  /** `checkedTxRoot`: in verify mode, the root of `candidates` already checked against the header (every candidate is included or the block fails, so it is the root of the executed txs too). */
  private async execute(header: Omit<BlockHeader, 'txRoot' | 'stateRoot' | 'resultsRoot'>, candidates: Uint8Array[], mode: 'propose' | 'verify', checkedTxRoot?: Uint8Array) {
    const overlay = new Overlay(this.store);
    const info: BlockInfo = { height: header.height, time: header.time, proposer: header.proposer };
    const readAcct = (sender: Uint8Array) => readAccount({ readerOf: (id) => scopedReader(overlay, id) }, sender);
    const exec = await executeTxs(this.env, overlay, info, candidates, mode, readAcct);
    await endBlock(this.env, overlay, info);
    const tree = await this.tree.stage(overlay.changes());
    const encodedResults = encodeTxResults(exec.results);
    const full: BlockHeader = { ...header, txRoot: mode === 'verify' && checkedTxRoot ? checkedTxRoot : txRoot(exec.txs), stateRoot: tree.root, resultsRoot: resultsRootOfEncoded(encodedResults) };
    return { overlay, tree, exec, header: full, encodedResults };
  }

  private baseHeader(height: number, time: number, proposer: Uint8Array) {
    return {
      chainId: this.chainId,
      height,
      time,
      prevHash: this.headState.hash,
      proposer,
      validatorSetHash: validatorSetHash(this.validators()),
    };
  }

  prepareProposal(req: ProposalRequest): Promise<Proposal> {
    return this.serial.run(async () => {
      if (req.height !== this.headState.height + 1) throw new InvalidMessageError('PROPOSAL_WRONG_HEIGHT', `cannot propose height ${req.height} on head ${this.headState.height}`);
      const time = Math.max(req.time, this.headState.time + 1);
      const { overlay, tree, exec, header, encodedResults } = await this.execute(this.baseHeader(req.height, time, req.proposer), req.txs, 'propose');
      const block: Block = { header, txs: exec.txs };
      const hash = blockHash(header);
      this.staged.set(toHex(hash), { block, hash, overlay, tree, ids: exec.ids, idsHex: exec.idsHex, encodedResults });
      return { block, hash, dropped: exec.dropped };
    });
  }

  processProposal(block: Block, opts: { checkClock?: boolean } = {}): Promise<ProcessResult> {
    return this.serial.run(async () => this.process(block, opts.checkClock ?? true));
  }

  private async process(block: Block, checkClock: boolean): Promise<ProcessResult> {
    const h = block.header;
    const hash = blockHash(h);
    const reject = (reason: string): ProcessResult => ({ accept: false, reason });
    // the header commits to the txs through txRoot: check it before trusting an executed copy
    if (!bytesEqual(h.txRoot, txRoot(block.txs))) return reject('tx root does not match the transactions');
    if (this.staged.has(toHex(hash))) return { accept: true, hash };
    if (h.chainId !== this.chainId) return reject(`chain id ${h.chainId}`);
    if (h.height !== this.headState.height + 1) return reject(`height ${h.height}, expected ${this.headState.height + 1}`);
    if (!bytesEqual(h.prevHash, this.headState.hash)) return reject('previous hash does not match the head');
    if (h.time <= this.headState.time) return reject(`time ${h.time} is not after the parent's ${this.headState.time}`);
    if (checkClock && h.time > this.now() + this.env.params.maxClockDriftMs) return reject(`time ${h.time} is too far ahead of the local clock`);
    if (!bytesEqual(h.validatorSetHash, validatorSetHash(this.validators()))) return reject('validator set hash does not match');
    let run;
    try {
      run = await this.execute(this.baseHeader(h.height, h.time, h.proposer), block.txs, 'verify', h.txRoot);
    } catch (e) {
      if (e instanceof TxNotIncludable) return reject(e.message);
      throw e;
    }
    if (!bytesEqual(run.header.stateRoot, h.stateRoot)) return reject('state root does not match re-execution');
    if (!bytesEqual(run.header.resultsRoot, h.resultsRoot)) return reject('results root does not match re-execution');
    this.staged.set(toHex(hash), { block, hash, overlay: run.overlay, tree: run.tree, ids: run.exec.ids, idsHex: run.exec.idsHex, encodedResults: run.encodedResults });
    return { accept: true, hash };
  }

  commit(block: Block, certificate: CommitCertificate, encoded?: Uint8Array): Promise<CommittedBlock> {
    return this.serial.run(async () => {
      const hash = blockHash(block.header);
      if (!bytesEqual(certificate.blockHash, hash) || certificate.height !== block.header.height) {
        throw new InternalError('COMMIT_MISMATCH', 'certificate does not name this block');
      }
      if (block.header.height === this.headState.height && bytesEqual(hash, this.headState.hash)) {
        // the same block committed twice (consensus and block sync raced): nothing to do
        return { header: block.header, hash, txIds: [], txIdsHex: [], results: this.blocks.results(block.header.height) ?? [], certificate: this.blocks.certificate(block.header.height) ?? certificate };
      }
      let staged = this.staged.get(toHex(hash));
      if (!staged) {
        const r = await this.process(block, false);
        if (!r.accept) throw new InternalError('COMMIT_INVALID_BLOCK', `refusing to commit an invalid certified block: ${r.reason}`);
        staged = this.staged.get(toHex(hash))!;
      }
      const changes = staged.overlay.changes();
      const head: Head = { height: block.header.height, hash, time: block.header.time, stateRoot: block.header.stateRoot };
      const ops: BatchOp[] = [
        ...changeOps(changes),
        ...staged.tree.ops,
        ...this.blocks.blockOps(block, hash, staged.ids, staged.encodedResults, certificate, encoded),
        ...this.blocks.headOps(head),
      ];
      await this.store.batch(ops);
      staged.tree.apply();
      this.headState = head;
      this.staged.clear();
      this.accounts.clear();
      forgetDecodedTxs(block.txs);
      return new CommittedView(block.header, hash, staged.ids, staged.idsHex, staged.encodedResults, certificate);
    });
  }

  /** Runs `fn` with the committed state frozen (no commit interleaves): queries, proofs. */
  withCommitted<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial.run(fn);
  }
}

function changeOps(changes: { key: Uint8Array; value: Uint8Array | undefined }[]): BatchOp[] {
  return changes.map((c) => (c.value === undefined ? { type: 'del', key: c.key } : { type: 'put', key: c.key, value: c.value }));
}
