// A deterministic in-memory RpcBackend for the rpc tests: it holds blocks, txs and accounts, records
// the calls it gets, and lets the test fire the onNewBlock / onTx listeners.
import { createHash } from 'node:crypto';
import { toHex } from '../../../lib/hex.js';
import type { RpcLogger } from '../../../rpc/server.js';
import type { RpcBackend, StatusJson, BlockJson, TxStatusJson, QueryResultJson, NewBlockEvent, EvidenceJson } from '../../../rpc/backend.js';

export const STATUS: StatusJson = {
  chainId: 'test-chain',
  height: 2,
  headHash: '0x' + 'ab'.repeat(32),
  headTime: 1_700_000_000_000,
  stateRoot: '0x' + 'cd'.repeat(32),
  validators: [{ name: 'v0', consensusKey: '0x02' + '11'.repeat(32), peerId: '12D3KooWtest', power: 1, address: '0x' + '22'.repeat(20) }],
};

export function block(height: number): BlockJson {
  return {
    header: { height, time: 1_700_000_000_000 + height },
    hash: '0x' + height.toString(16).padStart(64, '0'),
    txs: [],
    certificate: { height, view: 0, blockHash: '0x' + height.toString(16).padStart(64, '0'), votes: [] },
    certificateHex: '0x00',
    headerHex: '0x01',
  };
}

type Method = 'status' | 'getBlock' | 'sendTx' | 'prepareTxs' | 'getTx' | 'getAccount' | 'query';

export class FakeBackend implements RpcBackend {
  readonly blocks = new Map<number, BlockJson>([
    [1, block(1)],
    [2, block(2)],
  ]);
  readonly txs = new Map<string, TxStatusJson>();
  readonly accounts = new Map<string, { balance: string; nonce: number }>();
  readonly calls: { method: Method; args: unknown[] }[] = [];
  /** Make the next call of a method throw this. */
  readonly throwNext = new Map<Method, unknown>();
  private readonly blockListeners = new Set<(ev: NewBlockEvent) => void>();
  private readonly txListeners = new Map<string, Set<(s: TxStatusJson) => void>>();
  private countWaiters: { n: number; resolve: () => void }[] = [];

  private record(method: Method, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.throwNext.has(method)) {
      const err = this.throwNext.get(method);
      this.throwNext.delete(method);
      throw err;
    }
  }

  status(): StatusJson {
    this.record('status');
    return STATUS;
  }
  async getBlock(height: number): Promise<BlockJson | undefined> {
    this.record('getBlock', height);
    return this.blocks.get(height);
  }
  prepareTxs(raws: Uint8Array[]): void {
    this.record('prepareTxs', raws);
  }
  async sendTx(raw: Uint8Array): Promise<{ hash: string }> {
    this.record('sendTx', raw);
    const hash = txHash(raw);
    this.txs.set(hash, { hash, status: 'pending' });
    return { hash };
  }
  async getTx(hash: Uint8Array): Promise<TxStatusJson> {
    this.record('getTx', hash);
    return this.txs.get(toHex(hash)) ?? { hash: toHex(hash), status: 'unknown' };
  }
  readonly evidenceList: EvidenceJson[] = [];

  async evidence(limit: number): Promise<EvidenceJson[]> {
    return this.evidenceList.slice(0, limit);
  }

  async getAccount(address: Uint8Array): Promise<{ balance: string; nonce: number }> {
    this.record('getAccount', address);
    return this.accounts.get(toHex(address)) ?? { balance: '0', nonce: 0 };
  }
  async query(path: string, args: unknown, prove: boolean): Promise<QueryResultJson> {
    this.record('query', path, args, prove);
    const out: QueryResultJson = { value: { path, args }, height: STATUS.height };
    if (prove) out.proof = { records: [{ key: '0x01', value: null, proof: '0x02' }] };
    return out;
  }
  onNewBlock(listener: (ev: NewBlockEvent) => void): () => void {
    this.blockListeners.add(listener);
    this.listenersChanged();
    return () => {
      this.blockListeners.delete(listener);
      this.listenersChanged();
    };
  }
  onTx(hash: Uint8Array, listener: (status: TxStatusJson) => void): () => void {
    const key = toHex(hash);
    let set = this.txListeners.get(key);
    if (set === undefined) this.txListeners.set(key, (set = new Set()));
    set.add(listener);
    this.listenersChanged();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.txListeners.delete(key);
      this.listenersChanged();
    };
  }

  // ---- driven by the tests ----
  listenerCount(): number {
    let n = this.blockListeners.size;
    for (const s of this.txListeners.values()) n += s.size;
    return n;
  }
  /** Resolves once the number of registered listeners is n (at once if it already is). */
  whenListenerCount(n: number): Promise<void> {
    if (this.listenerCount() === n) return Promise.resolve();
    return new Promise((resolve) => this.countWaiters.push({ n, resolve }));
  }
  private listenersChanged(): void {
    const n = this.listenerCount();
    const ready = this.countWaiters.filter((w) => w.n === n);
    this.countWaiters = this.countWaiters.filter((w) => w.n !== n);
    for (const w of ready) w.resolve();
  }
  emitNewBlock(ev: NewBlockEvent): void {
    for (const l of [...this.blockListeners]) l(ev);
  }
  /** Sets the tx's status and fires its listeners. */
  setTx(status: TxStatusJson): void {
    this.txs.set(status.hash, status);
    for (const l of [...(this.txListeners.get(status.hash) ?? [])]) l(status);
  }
}

export function txHash(raw: Uint8Array): string {
  return '0x' + createHash('sha256').update(raw).digest('hex');
}

export const silentLog: RpcLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger that keeps every line, to check what reaches info and above. */
export function recordingLog(): { log: RpcLogger; lines: { level: string; msg: string; obj?: object }[] } {
  const lines: { level: string; msg: string; obj?: object }[] = [];
  const at =
    (level: string) =>
    (msg: string, obj?: object): void => {
      lines.push(obj === undefined ? { level, msg } : { level, msg, obj });
    };
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}
