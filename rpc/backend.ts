// The narrow interface the JSON-RPC server needs from a node (STYLE.md: rpc/ never imports node/).
// node/ implements it. Every method either returns plain JSON-able data or throws an IotchainError
// (lib/errors.ts) whose `code` the server maps to a JSON-RPC error (rpc/errors.ts).

export interface StatusJson {
  chainId: string;
  height: number;
  headHash: string;
  /** Time of the head block (ms). */
  headTime: number;
  stateRoot: string;
  validators: { name: string; consensusKey: string; peerId: string; power: number; address: string }[];
}

export interface BlockJson {
  header: Record<string, unknown>;
  hash: string;
  txs: string[]; // tx hashes (0x)
  /** Commit certificate: {height, view, blockHash, votes: [{validatorIndex, signature}]}, and its canonical bytes as hex. */
  certificate: Record<string, unknown>;
  certificateHex: string;
  /** Canonical header bytes (hex) so a client can hash and verify without trusting the JSON. */
  headerHex: string;
}

export interface TxStatusJson {
  hash: string;
  status: 'pending' | 'committed' | 'failed' | 'unknown';
  height?: number;
  index?: number;
  error?: { code: string; message: string };
  events?: { module: string; type: string; attributes: [string, string][] }[];
}

export interface QueryResultJson {
  value: unknown;
  height: number;
  /** With prove: the raw records read by the query, each with a state proof against header `height`. */
  proof?: { records: { key: string; value: string | null; proof: string }[] };
}

export interface NewBlockEvent {
  height: number;
  hash: string;
  time: number;
  txs: string[];
}

export interface EvidenceJson {
  validator: number;
  type: string;
  height: number;
  /** The two conflicting messages, canonical bytes (0x-hex). */
  a: string;
  b: string;
}

export interface RpcBackend {
  status(): StatusJson;
  getBlock(height: number): Promise<BlockJson | undefined>;
  /** Admits a raw tx to the mempool; returns its hash or throws (bad encoding, signature, nonce, fee...). */
  sendTx(raw: Uint8Array): Promise<{ hash: string }>;
  /**
   * Optional: sees the txs of a batch's tx_send requests before they run one by one (the node checks
   * their signatures back to back: state/tx.ts verifyAhead). Must not throw; sendTx still decides.
   */
  prepareTxs?(raws: Uint8Array[]): void;
  getTx(hash: Uint8Array): Promise<TxStatusJson>;
  getAccount(address: Uint8Array): Promise<{ balance: string; nonce: number }>;
  /** path = "module/method"; args = JSON object; throws QUERY_UNKNOWN / args errors. */
  query(path: string, args: unknown, prove: boolean): Promise<QueryResultJson>;
  /** Equivocation evidence this node has seen: two conflicting signed messages per entry. */
  evidence(limit: number): Promise<EvidenceJson[]>;
  /** Subscriptions: returns an unsubscribe function. */
  onNewBlock(listener: (ev: NewBlockEvent) => void): () => void;
  onTx(hash: Uint8Array, listener: (status: TxStatusJson) => void): () => void;
}
