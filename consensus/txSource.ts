/** What consensus needs from the mempool (node/ wires the real one). */
export interface TxSource {
  readonly size: number;
  /** Transactions admitted since the source was made (only grows): a primary gathering a burst watches it. */
  readonly admitted: number;
  reap(maxTxs: number, maxBytes: number): Uint8Array[];
  /** Called after a commit with the committed tx ids (0x-hex, as CommittedBlock.txIdsHex). */
  update(committedIdsHex: string[]): void;
  /** Removes transactions the application refused to include. */
  drop(raws: Uint8Array[]): void;
}
