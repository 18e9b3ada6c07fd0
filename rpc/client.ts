// Typed JSON-RPC client for an iotchain node (SPEC §4). Depends on lib/ and the JSON types of
// rpc/backend.ts only — no node/, no protocols/ — so off-chain tools, the CLI and devices can use it.
// HTTP through the global fetch; WebSocket (`ws`) for subscriptions and waitForTx, which falls back
// to polling tx_get when the WebSocket is unavailable.
import WebSocket from 'ws';
import { toHex } from '../lib/hex.js';
import type { StatusJson, BlockJson, TxStatusJson, QueryResultJson, NewBlockEvent } from './backend.js';
import { RPC_CODE, type JsonRpcErrorObject } from './errors.js';
import { SUBSCRIPTION_METHOD } from './jsonrpc.js';

export type { StatusJson, BlockJson, TxStatusJson, QueryResultJson, NewBlockEvent } from './backend.js';

/** The node answered with a JSON-RPC error. */
export class RpcError extends Error {
  /** JSON-RPC code: -32700…-32600 standard, -32000…-32099 application (rpc/errors.ts). */
  readonly code: number;
  /** The stable string code from error.data.code (e.g. "TX_BAD_NONCE"), when the node sent one. */
  readonly appCode: string | undefined;
  readonly data: Record<string, unknown> | undefined;
  /** The method called. */
  readonly method: string;
  constructor(method: string, err: JsonRpcErrorObject) {
    super(err.message);
    this.name = 'RpcError';
    this.method = method;
    this.code = err.code;
    this.data = err.data;
    this.appCode = typeof err.data?.code === 'string' ? err.data.code : undefined;
  }
}

/** The node could not be reached, or did not answer with a JSON-RPC response. */
export class RpcTransportError extends Error {
  /** HTTP status, when the node answered HTTP with something other than 200/204. */
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RpcTransportError';
    this.status = status;
  }
}

/** waitForTx gave up: the tx was neither committed nor failed within the time allowed. */
export class RpcTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpcTimeoutError';
  }
}

export interface RpcClientOptions {
  /** WebSocket endpoint; default: the URL with ws(s):// and path /ws. */
  wsUrl?: string;
  /** Per call (HTTP request, WebSocket connect or request). Default 30 s. */
  timeoutMs?: number;
}

export interface WaitForTxOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Interval of the tx_get polling used when the WebSocket is unavailable. Default 500 ms. */
  pollIntervalMs?: number;
}

type Bytes = Uint8Array | string;
type SubscriptionCallback = (result: unknown, subscription: string) => void;

function hexOf(v: Bytes): string {
  return typeof v === 'string' ? v : toHex(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Checks the shape of a response object; returns the result or throws RpcError. */
function unwrap<T>(method: string, msg: Record<string, unknown>): T {
  const err = msg.error;
  if (isObject(err)) {
    if (typeof err.code !== 'number' || typeof err.message !== 'string') throw new RpcTransportError(`rpc ${method}: malformed error response`);
    throw new RpcError(method, { code: err.code, message: err.message, ...(isObject(err.data) ? { data: err.data } : {}) });
  }
  if (msg.jsonrpc !== '2.0' || !('result' in msg)) throw new RpcTransportError(`rpc ${method}: malformed response`);
  return msg.result as T;
}

function isFinal(s: TxStatusJson): boolean {
  return s.status === 'committed' || s.status === 'failed';
}

/** One WebSocket connection: requests by id, and subscription notifications by subscription id. */
class WsChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void; onResult?: (v: unknown) => void }>();
  private readonly subs = new Map<string, { cb: SubscriptionCallback; onEnd?: (err: Error) => void }>();
  private closedWith: Error | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
    private readonly onClosed: () => void,
  ) {
    ws.on('message', (data: WebSocket.RawData) => this.onMessage(data));
    ws.on('close', () => this.fail(new RpcTransportError('websocket closed')));
    ws.on('error', (err: Error) => this.fail(new RpcTransportError(`websocket error: ${err.message}`, undefined, err)));
  }

  static open(url: string, timeoutMs: number, onClosed: () => void): Promise<WsChannel> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
      let opened = false;
      const onError = (err: Error): void => {
        if (opened) return; // the channel's own listener handles it from now on
        ws.off('open', onOpen);
        ws.terminate();
        reject(new RpcTransportError(`websocket ${url} unreachable: ${err.message}`, undefined, err));
      };
      const onOpen = (): void => {
        opened = true;
        resolve(new WsChannel(ws, timeoutMs, onClosed));
      };
      ws.on('error', onError);
      ws.once('open', onOpen);
    });
  }

  get open(): boolean {
    return this.closedWith === undefined;
  }

  /** onResult runs synchronously on the response, before any later message is handled. */
  request<T>(method: string, params: Record<string, unknown>, onResult?: (v: unknown) => void): Promise<T> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const answer = this.expect<T>(id, method, onResult);
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return answer;
  }

  /**
   * Several calls in one JSON-RPC batch message (one frame, one parse on the node); each call's
   * promise settles with its own answer. The node answers a batch with one array, which onMessage
   * routes by id like single answers.
   */
  requestBatch(calls: { method: string; params: Record<string, unknown> }[]): Promise<unknown>[] {
    if (this.closedWith !== undefined) return calls.map(() => Promise.reject(this.closedWith));
    const reqs = calls.map((c) => ({ jsonrpc: '2.0', id: this.nextId++, method: c.method, params: c.params }));
    const answers = reqs.map((r) => this.expect<unknown>(r.id, r.method));
    this.ws.send(JSON.stringify(reqs));
    return answers;
  }

  /** Registers request `id`: its answer (or the channel's failure, or the timeout) settles the promise. */
  private expect<T>(id: number, method: string, onResult?: (v: unknown) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcTransportError(`rpc ${method}: no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        ...(onResult ? { onResult } : {}),
      });
    });
  }

  /** Subscribes; the callback is registered before any notification for the new id can be handled. */
  subscribe(params: Record<string, unknown>, cb: SubscriptionCallback, onEnd?: (err: Error) => void): Promise<string> {
    return this.request<string>('chain_subscribe', params, (id) => {
      if (typeof id === 'string') this.subs.set(id, onEnd ? { cb, onEnd } : { cb });
    });
  }

  async unsubscribe(id: string): Promise<void> {
    if (!this.subs.delete(id) || this.closedWith !== undefined) return;
    await this.request<boolean>('chain_unsubscribe', { subscription: id });
  }

  /** Drops a subscription the node ended by itself (a tx subscription after its notification). */
  forget(id: string): void {
    this.subs.delete(id);
  }

  close(): void {
    this.fail(new RpcTransportError('client closed'));
  }

  private onMessage(data: WebSocket.RawData): void {
    let msg: unknown;
    try {
      msg = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8'));
    } catch {
      return; // not JSON: ignore
    }
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      if (!isObject(m)) continue;
      if (m.method === SUBSCRIPTION_METHOD && isObject(m.params) && typeof m.params.subscription === 'string') {
        this.subs.get(m.params.subscription)?.cb(m.params.result, m.params.subscription);
        continue;
      }
      if (typeof m.id !== 'number') continue;
      const p = this.pending.get(m.id);
      if (p === undefined) continue;
      this.pending.delete(m.id);
      try {
        const result = unwrap<unknown>(p.method, m);
        p.onResult?.(result);
        p.resolve(result);
      } catch (err) {
        p.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private fail(err: Error): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    const subs = [...this.subs.values()];
    this.subs.clear();
    for (const s of subs) s.onEnd?.(err);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    this.onClosed();
  }
}

export class RpcClient {
  readonly url: string;
  readonly wsUrl: string;
  private readonly timeoutMs: number;
  private nextId = 1;
  private channel: Promise<WsChannel> | undefined;
  /** Cancel functions of waitForTx calls in progress (close() ends them). */
  private readonly waits = new Set<(err: Error) => void>();

  constructor(url: string, opts: RpcClientOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`rpc url must be http(s)://…, got ${u.protocol}`);
    this.url = u.toString();
    if (opts.wsUrl !== undefined) {
      this.wsUrl = opts.wsUrl;
    } else {
      const w = new URL(u.toString());
      w.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      w.pathname = w.pathname.replace(/\/?$/, '/ws');
      this.wsUrl = w.toString();
    }
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Any method by name, over HTTP POST. */
  async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    let status: number;
    let text: string;
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') throw new RpcTransportError(`rpc ${method}: no answer from ${this.url} within ${this.timeoutMs} ms`, undefined, err);
      throw new RpcTransportError(`rpc ${method}: ${this.url} unreachable: ${errorText(err)}`, undefined, err);
    }
    if (status !== 200) throw new RpcTransportError(`rpc ${method}: HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, status);
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      throw new RpcTransportError(`rpc ${method}: response is not JSON`, status);
    }
    if (!isObject(msg) || msg.id !== id) throw new RpcTransportError(`rpc ${method}: response does not answer the request`, status);
    return unwrap<T>(method, msg);
  }

  status(): Promise<StatusJson> {
    return this.call('chain_status');
  }

  getBlock(height: number): Promise<BlockJson> {
    return this.call('chain_getBlock', { height });
  }

  sendTx(raw: Bytes): Promise<{ hash: string }> {
    return this.call('tx_send', { tx: hexOf(raw) });
  }

  /**
   * Submits several txs in one JSON-RPC batch over the WebSocket (opened on first use): one message
   * each way instead of an HTTP request per tx. One outcome per tx, in order: its hash, or its error
   * (RpcError with the node's code, or RpcTransportError when the socket fails or does not answer).
   * At most the node's batch limit (`maxBatch`, 100 by default) per call.
   */
  async sendTxs(raws: Bytes[]): Promise<PromiseSettledResult<{ hash: string }>[]> {
    if (raws.length === 0) return [];
    let ch: WsChannel;
    try {
      ch = await this.openChannel();
    } catch (err) {
      return raws.map(() => ({ status: 'rejected', reason: err }));
    }
    return Promise.allSettled(ch.requestBatch(raws.map((r) => ({ method: 'tx_send', params: { tx: hexOf(r) } }))) as Promise<{ hash: string }>[]);
  }

  getTx(hash: Bytes): Promise<TxStatusJson> {
    return this.call('tx_get', { hash: hexOf(hash) });
  }

  getAccount(address: Bytes): Promise<{ balance: string; nonce: number }> {
    return this.call('account_get', { address: hexOf(address) });
  }

  query(path: string, args: Record<string, unknown> = {}, opts: { prove?: boolean } = {}): Promise<QueryResultJson> {
    return this.call('query', { path, args, ...(opts.prove !== undefined ? { prove: opts.prove } : {}) });
  }

  /**
   * Resolves with the tx's status once it is committed or failed (a failed tx resolves too: look at
   * `status` and `error`). Uses a WebSocket subscription; if the WebSocket cannot be opened or drops,
   * polls tx_get every pollIntervalMs. Rejects with RpcTimeoutError after timeoutMs, with RpcError
   * if the node rejects the hash, and with RpcTransportError if the client is closed meanwhile.
   */
  waitForTx(hash: Bytes, opts: WaitForTxOptions = {}): Promise<TxStatusJson> {
    const hashHex = hexOf(hash);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const pollIntervalMs = opts.pollIntervalMs ?? 500;
    return new Promise<TxStatusJson>((resolve, reject) => {
      let settled = false;
      let polling = false;
      let pollTimer: NodeJS.Timeout | undefined;
      let unsubscribe: (() => void) | undefined;
      const finish = (err: Error | undefined, status?: TxStatusJson): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (pollTimer !== undefined) clearTimeout(pollTimer);
        unsubscribe?.();
        this.waits.delete(finish);
        if (err !== undefined) reject(err);
        else resolve(status as TxStatusJson);
      };
      const deadline = setTimeout(() => finish(new RpcTimeoutError(`tx ${hashHex} neither committed nor failed within ${timeoutMs} ms`)), timeoutMs);
      this.waits.add(finish);

      const poll = (): void => {
        if (settled) return;
        this.getTx(hashHex).then(
          (s) => {
            if (isFinal(s)) finish(undefined, s);
            else if (!settled) pollTimer = setTimeout(poll, pollIntervalMs);
          },
          (err: unknown) => {
            if (err instanceof RpcError) finish(err);
            else if (!settled) pollTimer = setTimeout(poll, pollIntervalMs); // node unreachable: keep trying until the deadline
          },
        );
      };
      const startPolling = (): void => {
        if (polling || settled) return;
        polling = true;
        poll();
      };

      this.openChannel()
        .then(async (ch) => {
          const id = await ch.subscribe(
            { event: 'tx', hash: hashHex },
            (result, subId) => {
              ch.forget(subId);
              if (isObject(result) && typeof result.status === 'string') finish(undefined, result as unknown as TxStatusJson);
            },
            () => startPolling(),
          );
          if (settled) void ch.unsubscribe(id).catch(() => {});
          else unsubscribe = () => void ch.unsubscribe(id).catch(() => {});
        })
        .catch((err: unknown) => {
          if (err instanceof RpcError && err.code === RPC_CODE.INVALID_PARAMS) finish(err); // the hash itself is bad
          else startPolling(); // no WebSocket (or no room for a subscription): poll instead
        });
    });
  }

  /**
   * Calls cb for every new block until the returned function is called. onEnd runs if the
   * WebSocket drops (no automatic resubscription: subscribe again).
   */
  async subscribeNewBlocks(cb: (ev: NewBlockEvent) => void, onEnd?: (err: Error) => void): Promise<() => Promise<void>> {
    const ch = await this.openChannel();
    const id = await ch.subscribe({ event: 'newBlock' }, (result) => cb(result as NewBlockEvent), onEnd);
    return () => ch.unsubscribe(id);
  }

  /** Closes the WebSocket (if any) and ends waitForTx calls in progress. HTTP needs no closing. */
  async close(): Promise<void> {
    const err = new RpcTransportError('client closed');
    for (const cancel of [...this.waits]) cancel(err);
    const ch = this.channel;
    this.channel = undefined;
    if (ch !== undefined) {
      try {
        (await ch).close();
      } catch {
        // never opened
      }
    }
  }

  private openChannel(): Promise<WsChannel> {
    if (this.channel === undefined) {
      const p = WsChannel.open(this.wsUrl, this.timeoutMs, () => {
        if (this.channel === p) this.channel = undefined;
      });
      this.channel = p;
      p.catch(() => {
        if (this.channel === p) this.channel = undefined;
      });
    }
    return this.channel;
  }
}
