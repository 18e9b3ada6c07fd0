// Types of the pure PBFT core (STYLE.md "Consensus as a pure state machine"; consensus/README.md).
// Everything here is plain data: the driver encodes, signs and verifies; the core only reasons.

/** A validator's position in the ordered validator list, 0..n-1. */
export type ValidatorIndex = number;

// ---------------------------------------------------------------------------------------------
// Messages. Every message names its author (`from`) and carries an opaque signature that the core
// never checks: the driver verifies every signature (including the nested ones in a ViewChange
// and a NewView) before it feeds a message in, and signs the messages the core outputs (the core
// leaves `signature` empty on its own messages).
// ---------------------------------------------------------------------------------------------

/** The primary's proposal for (height, view). At view > 0 it is only valid inside a NewView. */
export interface PrePrepare {
  readonly type: 'PrePrepare';
  readonly from: ValidatorIndex;
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
  /** The opaque block (the driver checks hash(payload) = blockHash when it executes it). */
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

/** A backup's vote that it accepted and executed the primary's block. The primary sends none. */
export interface Prepare {
  readonly type: 'Prepare';
  readonly from: ValidatorIndex;
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * A vote that the author is prepared (holds a prepared certificate). quorum() Commits for one
 * (height, view, blockHash) form the commit certificate: the driver signs a Commit over exactly
 * (chain id, height, view, block hash) so the certificate verifies with state/block.ts verifyCommit.
 */
export interface Commit {
  readonly type: 'Commit';
  readonly from: ValidatorIndex;
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
  readonly signature: Uint8Array;
}

/** Proof that a block was prepared in `view`: the PrePrepare plus quorum()-1 matching Prepares. */
export interface PreparedCertificate {
  readonly view: number;
  readonly blockHash: Uint8Array;
  /** Signed by primary(height, view); carries the payload. */
  readonly prePrepare: PrePrepare;
  /** Distinct backups (never the primary of `view`), all for (height, view, blockHash). */
  readonly prepares: readonly Prepare[];
}

/** "Move me to `newView`", carrying the author's highest prepared certificate at this height. */
export interface ViewChange {
  readonly type: 'ViewChange';
  readonly from: ValidatorIndex;
  readonly height: number;
  readonly newView: number;
  readonly prepared?: PreparedCertificate | undefined;
  readonly signature: Uint8Array;
}

/**
 * The new primary's proof that quorum() validators asked for `view`, with the PrePrepare it chose:
 * the block of the highest prepared certificate among the ViewChanges, else a new block.
 * The NewView is the PrePrepare's justification; both carry their own signature.
 */
export interface NewView {
  readonly type: 'NewView';
  readonly from: ValidatorIndex;
  readonly height: number;
  readonly view: number;
  readonly viewChanges: readonly ViewChange[];
  readonly prePrepare: PrePrepare;
  readonly signature: Uint8Array;
}

export type ConsensusMessage = PrePrepare | Prepare | Commit | ViewChange | NewView;
export type MessageType = ConsensusMessage['type'];

// ---------------------------------------------------------------------------------------------
// Write-ahead log records (what a restarted validator must remember).
// ---------------------------------------------------------------------------------------------

export type WalRecord =
  /** One of this validator's own signed messages, persisted by the driver before it is sent. */
  | { readonly kind: 'sent'; readonly msg: ConsensusMessage }
  /** A prepared certificate, persisted (PersistWal) before the Commit that follows it is sent. */
  | { readonly kind: 'prepared'; readonly cert: PreparedCertificate };

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/** First input of every core: enters the round of `state.height`. `wal`: records replayed after a restart. */
export interface StartInput {
  readonly type: 'Start';
  readonly wal?: readonly WalRecord[];
}

/** A timer set by ScheduleTimeout expired. Stale ones (another height or view) are ignored. */
export interface TimeoutInput {
  readonly type: 'Timeout';
  readonly height: number;
  readonly view: number;
}

/** Answer to Propose: the application built and executed this block on the committed head. */
export interface ProposalReadyInput {
  readonly type: 'ProposalReady';
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
  readonly payload: Uint8Array;
}

/** Answer to ExecuteBlock: `valid` iff processProposal accepted it and its hash is `blockHash`. */
export interface BlockExecutedInput {
  readonly type: 'BlockExecuted';
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
  readonly valid: boolean;
}

/** Blocks up to and including `height` were committed by block sync: jump to height + 1. */
export interface SyncedInput {
  readonly type: 'Synced';
  readonly height: number;
}

export type Input = ConsensusMessage | StartInput | TimeoutInput | ProposalReadyInput | BlockExecutedInput | SyncedInput;

// ---------------------------------------------------------------------------------------------
// Outputs (the driver carries them out in order; see consensus/README.md)
// ---------------------------------------------------------------------------------------------

/** Sign (nested PrePrepare of a NewView first), persist as WalRecord 'sent', send to all, feed back in. */
export interface BroadcastOutput {
  readonly type: 'Broadcast';
  readonly msg: ConsensusMessage;
}

/**
 * Send an already signed message again, as is: an own message from the WAL after a restart, or
 * (on a timeout) the latest ViewChanges known, own and relayed, so lagging validators catch up.
 */
export interface RebroadcastOutput {
  readonly type: 'Rebroadcast';
  readonly msg: ConsensusMessage;
}

/** Persist (fsync) this record before carrying out the next output. */
export interface PersistWalOutput {
  readonly type: 'PersistWal';
  readonly record: WalRecord;
}

/** (Re)arm the single consensus timer: after durationMs, input Timeout{height, view}. */
export interface ScheduleTimeoutOutput {
  readonly type: 'ScheduleTimeout';
  readonly height: number;
  readonly view: number;
  readonly durationMs: number;
}

/** This validator is primary of (height, view): build and execute a block, answer ProposalReady. */
export interface ProposeOutput {
  readonly type: 'Propose';
  readonly height: number;
  readonly view: number;
}

/** Re-execute the primary's block on the committed head (processProposal); answer BlockExecuted. */
export interface ExecuteBlockOutput {
  readonly type: 'ExecuteBlock';
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
  readonly payload: Uint8Array;
}

/** Block `height` is decided: commit it with its certificate before carrying out the next output. */
export interface DecideOutput {
  readonly type: 'Decide';
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
  readonly payload: Uint8Array;
  /** quorum() Commits for (height, view, blockHash) from distinct validators, by ascending index. */
  readonly certificate: readonly Commit[];
  /** True iff this incarnation of the core saw the block executed as valid (ProposalReady/BlockExecuted). */
  readonly executed: boolean;
}

/** Two conflicting signed messages of one kind from one validator for one (height, view). */
export interface EvidenceOutput {
  readonly type: 'Evidence';
  readonly a: ConsensusMessage;
  readonly b: ConsensusMessage;
}

/**
 * Peers are at `height` or beyond (or a block decided here lacks its payload): fetch the committed
 * blocks fromHeight..height-1 with their certificates, verify, execute, commit, then input Synced.
 */
export interface RequestSyncOutput {
  readonly type: 'RequestSync';
  readonly fromHeight: number;
  readonly height: number;
  /** Validators seen at a higher height (or that voted for the missing block): ask them first. */
  readonly peers: readonly ValidatorIndex[];
}

/** A message that proves its (signature-verified) author misbehaved or sent garbage: score the peer down. */
export interface RejectOutput {
  readonly type: 'Reject';
  readonly reason: RejectReason;
  readonly from: number | undefined;
}

export type Output =
  | BroadcastOutput
  | RebroadcastOutput
  | PersistWalOutput
  | ScheduleTimeoutOutput
  | ProposeOutput
  | ExecuteBlockOutput
  | DecideOutput
  | EvidenceOutput
  | RequestSyncOutput
  | RejectOutput;

// ---------------------------------------------------------------------------------------------
// Rejections (counted in state.rejected)
// ---------------------------------------------------------------------------------------------

/** Reasons that mean the author sent something no correct validator sends (emitted as Reject outputs). */
export const FAULT_REASONS = [
  'malformed',
  'unknownValidator',
  'payloadTooLarge',
  'notPrimary',
  'prepareFromPrimary',
  'prePrepareOutsideNewView',
  'badCertificate',
  'badNewView',
  'newViewWrongBlock',
  'equivocation',
] as const;

/** Reasons that happen to correct validators too (asynchrony, duplicates, restarts): only counted. */
export const BENIGN_REASONS = [
  'notStarted',
  'alreadyStarted',
  'staleHeight',
  'heightTooFar',
  'bufferFull',
  'staleView',
  'viewTooFar',
  'duplicate',
  'voteConflict',
  'invalidBlock',
] as const;

export type RejectReason = (typeof FAULT_REASONS)[number] | (typeof BENIGN_REASONS)[number];

// ---------------------------------------------------------------------------------------------
// Parameters and state
// ---------------------------------------------------------------------------------------------

export interface PbftParams {
  /** Number of validators (any n ≥ 1; tolerates f = floor((n-1)/3) Byzantine). */
  readonly n: number;
  /** This validator's index. */
  readonly self: ValidatorIndex;
  /** Round timeout at view 0 (and after every new height). */
  readonly timeoutBaseMs: number;
  /** Timeout at view v = min(timeoutMaxMs, timeoutBaseMs * 2^min(v, timeoutMaxExponent)). */
  readonly timeoutMaxExponent: number;
  readonly timeoutMaxMs: number;
  /** Prepares/Commits are kept for views up to current view + viewWindow; beyond, rejected. */
  readonly viewWindow: number;
  /** Messages for heights current+1 .. current+heightWindow are buffered and replayed. */
  readonly heightWindow: number;
  /** At most this many future-height messages are buffered per sender. */
  readonly maxBufferedPerSender: number;
  /** Largest accepted block payload. */
  readonly maxPayloadBytes: number;
  /** Length of a block hash. */
  readonly hashBytes: number;
}

export type Phase = 'normal' | 'viewChange';
export type Execution = 'none' | 'pending' | 'valid' | 'invalid';

/** What one view at the current height has seen (first message per author; later conflicting ones are evidence). */
export interface RoundLog {
  readonly prePrepare: PrePrepare | undefined;
  readonly prepares: ReadonlyMap<ValidatorIndex, Prepare>;
  readonly commits: ReadonlyMap<ValidatorIndex, Commit>;
}

/**
 * The whole consensus state of one validator. Immutable: step() returns a new object and never
 * modifies a state or a map it was given (structural sharing), so callers may keep old states.
 */
export interface PbftState {
  readonly params: PbftParams;
  readonly started: boolean;
  /** The height being decided (last committed height + 1). */
  readonly height: number;
  readonly view: number;
  /** 'viewChange': sent ViewChange for `view`, waiting for its NewView. */
  readonly phase: Phase;
  /** The PrePrepare accepted for (height, view) in phase 'normal'. */
  readonly accepted: PrePrepare | undefined;
  /** Execution of `accepted` by the application. */
  readonly execution: Execution;
  /** This validator (primary) asked the driver for a block for (height, view). */
  readonly proposing: boolean;
  /** The block the driver built for this validator's proposal at (height, ownProposal.view). */
  readonly ownProposal: { readonly view: number; readonly blockHash: Uint8Array } | undefined;
  /** Highest prepared certificate at this height (restored from the WAL after a restart). */
  readonly prepared: PreparedCertificate | undefined;
  /** Per view: PrePrepare, Prepares and Commits received at this height. */
  readonly rounds: ReadonlyMap<number, RoundLog>;
  /** Latest (highest newView) ViewChange per validator at this height. */
  readonly viewChanges: ReadonlyMap<ValidatorIndex, ViewChange>;
  /** Block payloads known at this height, by hex hash (from PrePrepares and certificates). */
  readonly blocks: ReadonlyMap<string, Uint8Array>;
  /** Hex hashes of blocks executed as valid by this incarnation at this height. */
  readonly executedBlocks: ReadonlySet<string>;
  /** Own votes, `${height}/${type}/${view}` → digest: never vote differently for one key. */
  readonly votes: ReadonlyMap<string, string>;
  /** Keys of equivocations already reported. */
  readonly evidenced: ReadonlySet<string>;
  /** Messages for heights height+1 .. height+heightWindow, replayed in arrival order. */
  readonly future: readonly ConsensusMessage[];
  /** Highest height each validator was seen working on. */
  readonly peerHeights: readonly number[];
  /** Highest height a RequestSync was output for. */
  readonly syncRequested: number;
  readonly rejected: Readonly<Partial<Record<RejectReason, number>>>;
}

export interface StepResult {
  readonly state: PbftState;
  readonly out: Output[];
}
