// The ABCI-like seam between consensus and the application (STYLE.md "Consensus as a pure state
// machine"). Consensus drives it; protocols/app.ts implements it; node/ wires the two. Execution
// comes before voting: the proposer executes the block it builds (prepareProposal) and every replica
// re-executes a proposal (processProposal) and checks its roots before it votes; commit persists the
// already-executed block together with its certificate.
import type { Block, BlockHeader, CommitCertificate, TxResult, Validator } from './block.js';
import type { DecodedTx } from './tx.js';

export interface ChainInfo {
  chainId: string;
  /** Height of the last committed block (0 before the first block). */
  height: number;
  /** Hash of the last committed block header (32 zero bytes at genesis). */
  headHash: Uint8Array;
  /** Time of the last committed block (genesis time at height 0). */
  headTime: number;
  /** State root after the last committed block (the genesis state root at height 0). */
  stateRoot: Uint8Array;
  validators: Validator[];
}

export interface ProposalRequest {
  height: number;
  time: number;
  /** Address of the proposer's consensus key. */
  proposer: Uint8Array;
  /** Candidate transactions in order (from the mempool); invalid ones are dropped. */
  txs: Uint8Array[];
}

export interface Proposal {
  block: Block;
  hash: Uint8Array;
  /** Candidates left out, with the reason (bad nonce, insufficient fee balance, block full...). */
  dropped: { raw: Uint8Array; reason: string }[];
}

export type ProcessResult = { accept: true; hash: Uint8Array } | { accept: false; reason: string };

export interface CommittedBlock {
  header: BlockHeader;
  hash: Uint8Array;
  txIds: Uint8Array[];
  /** txIds as 0x-hex, computed once. */
  txIdsHex: string[];
  results: TxResult[];
  certificate: CommitCertificate;
}

export interface Application {
  info(): ChainInfo;
  /** Mempool admission against the committed state. Throws InvalidMessageError with a specific code. */
  checkTx(raw: Uint8Array): DecodedTx;
  prepareProposal(req: ProposalRequest): Promise<Proposal>;
  /**
   * Re-executes `block` on top of the committed head and checks every root. `checkClock`: enforce
   * parent time < time ≤ local clock + drift (off for blocks that already carry a certificate, e.g. sync).
   */
  processProposal(block: Block, opts?: { checkClock?: boolean }): Promise<ProcessResult>;
  /**
   * Persists an executed block with its certificate, atomically with its state. `encoded`: the
   * block's canonical encoding when the caller has it (consensus payloads, synced blocks), stored
   * as is instead of encoding the block again.
   */
  commit(block: Block, certificate: CommitCertificate, encoded?: Uint8Array): Promise<CommittedBlock>;
}
