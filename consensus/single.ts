// Single-validator consensus behind the application seam: the one validator proposes (executes) a
// block, signs a 1-of-1 commit certificate in the same format as PBFT's 2f+1 certificates, and
// commits. It drives the application exactly as PBFT does (prepareProposal → processProposal →
// commit), so clients and tests see the same behaviour on a one-node chain.
import type { Application, CommittedBlock } from '../state/application.js';
import { commitVoteBytes, validatorAddress, type CommitCertificate } from '../state/block.js';
import { signFast } from '../crypto/sign.js';
import { bytesEqual } from '../lib/hex.js';
import { IotchainError } from '../lib/errors.js';
import type { KeyPair } from '../crypto/keys.js';
import type { TxSource } from './txSource.js';

export interface SingleValidatorOptions {
  app: Application;
  txs: TxSource;
  /** The validator's P-256 consensus key (must be the genesis set's only member). */
  key: KeyPair;
  maxBlockTxs: number;
  maxBlockBytes: number;
  /** Delay between a tx arriving and the block that includes it (batches txs). */
  blockDelayMs?: number;
  /** An empty block is made at most this often (the chain's heartbeat). */
  emptyBlockIntervalMs?: number;
  now?: () => number;
  onCommit?: (b: CommittedBlock) => void;
  onError?: (e: unknown) => void;
}

export class SingleValidator {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private busy: Promise<void> = Promise.resolve();
  private lastBlockAt = 0;
  /** True while a tick runs: ticks never overlap (one block at a time). */
  private ticking = false;

  constructor(private readonly o: SingleValidatorOptions) {
    this.checkSet();
  }

  /**
   * The set in force must be exactly this node. A validator-set change approved on a 1-validator
   * chain (its quorum is 1) takes effect two heights later; from then on this driver must not
   * certify blocks alone: it stops with CONSENSUS_SET_CHANGED, and node/node.ts hands over to PBFT
   * with the new set in the same process (a restart, too, picks the driver from the set in force).
   */
  private checkSet(): void {
    const vals = this.o.app.info().validators;
    if (vals.length !== 1 || !bytesEqual(vals[0]!.consensusKey, this.o.key.publicKey)) {
      throw new IotchainError(
        'CONSENSUS_SET_CHANGED',
        vals.length === 1
          ? 'the validator set in force is another single validator: this node cannot produce blocks'
          : `the validator set in force has ${vals.length} members: single-validator consensus stops; the node runs PBFT with them`,
      );
    }
  }

  start(): void {
    this.running = true;
    this.lastBlockAt = this.now();
    this.schedule(this.o.blockDelayMs ?? 20);
  }

  /** Stops producing blocks; resolves after an in-flight block is committed. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
  }

  /** Tell the driver a tx arrived (to cut the wait short). */
  poke(): void {
    if (this.running && !this.timer && !this.ticking) this.schedule(this.o.blockDelayMs ?? 20);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = true;
      this.busy = this.tick()
        .catch((e) => this.o.onError?.(e))
        .finally(() => {
          this.ticking = false;
        });
    }, ms);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    const empty = this.o.emptyBlockIntervalMs ?? 1000;
    // only transactions that can go into the next block count (a nonce gap waits, it does not spin)
    const ready = this.o.txs.reap(this.o.maxBlockTxs, this.o.maxBlockBytes);
    let full = false;
    if (ready.length > 0 || this.now() - this.lastBlockAt >= empty) {
      await this.produce(ready);
      full = ready.length >= this.o.maxBlockTxs;
    }
    const delay = full ? 0 : ready.length > 0 ? (this.o.blockDelayMs ?? 20) : Math.max(1, Math.min(empty, empty - (this.now() - this.lastBlockAt)));
    this.schedule(delay);
  }

  /** Proposes, checks, certifies and commits one block. Exposed for tests. */
  async produce(txs?: Uint8Array[]): Promise<CommittedBlock> {
    this.checkSet();
    const info = this.o.app.info();
    const height = info.height + 1;
    const v = info.validators[0]!;
    const proposal = await this.o.app.prepareProposal({
      height,
      time: this.now(),
      proposer: validatorAddress(v),
      txs: txs ?? this.o.txs.reap(this.o.maxBlockTxs, this.o.maxBlockBytes),
    });
    // what can never be included (spent nonce, fee no longer covered) leaves the mempool
    this.o.txs.drop(proposal.dropped.filter((d) => !/block is full/.test(d.reason)).map((d) => d.raw));
    const check = await this.o.app.processProposal(proposal.block, { checkClock: false });
    if (!check.accept) throw new Error(`own proposal rejected: ${check.reason}`);
    const cert: CommitCertificate = {
      height,
      view: 0,
      blockHash: proposal.hash,
      votes: [{ validatorIndex: 0, signature: signFast(this.o.key, commitVoteBytes(info.chainId, height, 0, proposal.hash)) }],
    };
    const committed = await this.o.app.commit(proposal.block, cert);
    this.lastBlockAt = this.now();
    this.o.txs.update(committed.txIdsHex);
    this.o.onCommit?.(committed);
    return committed;
  }
}
