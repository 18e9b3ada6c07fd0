// WebSocket subscriptions of one socket: chain_subscribe / chain_unsubscribe, and the notifications.
//
// Ordering guarantee: a subscription is created inactive; the transport activates it (activatePending)
// only after it has sent the response carrying the subscription id, so a client never receives a
// notification for an id it has not seen yet. Results that arrive in between are queued.
// A tx subscription sends one notification, when the tx is committed or failed, then ends by itself;
// on activation it also asks the backend once, so a tx that finished before the subscription was
// made is reported rather than waited for forever.
import { randomBytes } from 'node:crypto';
import { IotchainError } from '../lib/errors.js';
import { toHex } from '../lib/hex.js';
import type { RpcBackend, TxStatusJson } from './backend.js';
import { RPC_ERR, InvalidParamsError } from './errors.js';
import type { MethodHandler } from './methods.js';
import { SUBSCRIPTION_METHOD, type JsonRpcNotification, type SubscriptionParams, type RpcLogger } from './jsonrpc.js';
import { readParams, fixedBytesParam, stringParam } from './params.js';

export const SUBSCRIPTION_METHOD_NAMES = ['chain_subscribe', 'chain_unsubscribe'] as const;
export type SubscriptionMethodName = (typeof SUBSCRIPTION_METHOD_NAMES)[number];

export type SubscriptionEvent = 'newBlock' | 'tx';

/** `newBlock` subscriptions per connection: each is sent every whole block (100 of them filled a socket's buffer at once). */
export const MAX_NEW_BLOCK_SUBSCRIPTIONS = 4;

interface Subscription {
  id: string;
  event: SubscriptionEvent;
  /** For event 'tx'. */
  hash?: Uint8Array;
  active: boolean;
  queued: unknown[];
  /** The backend listener is gone; the subscription is removed once its queue is flushed. */
  ended: boolean;
  stop: () => void;
}

function isFinal(status: TxStatusJson): boolean {
  return status.status === 'committed' || status.status === 'failed';
}

export class SubscriptionSession {
  private readonly subs = new Map<string, Subscription>();
  private pending: Subscription[] = [];
  private closed = false;
  readonly methods: { readonly [K in SubscriptionMethodName]: MethodHandler };

  constructor(
    private readonly backend: RpcBackend,
    private readonly send: (note: JsonRpcNotification<SubscriptionParams>) => void,
    private readonly maxSubscriptions: number,
    private readonly log: RpcLogger,
  ) {
    this.methods = {
      chain_subscribe: async (raw) => this.subscribe(raw),
      chain_unsubscribe: async (raw) => {
        const id = stringParam(readParams(raw, ['subscription']), 'subscription', /^0x[0-9a-f]{1,64}$/, 'a subscription id');
        return this.unsubscribe(id);
      },
    };
  }

  /** Live subscriptions (including those not yet activated). */
  get size(): number {
    return this.subs.size;
  }

  private subscribe(raw: unknown): string {
    const p = readParams(raw, ['event', 'hash']);
    const event = p.event;
    if (event !== 'newBlock' && event !== 'tx') {
      throw new InvalidParamsError('event', event === undefined ? 'missing param: event' : 'invalid param: event must be "newBlock" or "tx"');
    }
    if (event === 'newBlock' && p.hash !== undefined) throw new InvalidParamsError('hash', 'unknown param: "hash" (only for event "tx")');
    const hash = event === 'tx' ? fixedBytesParam(p, 'hash', 32) : undefined;
    if (this.closed) throw new IotchainError('RPC_CONNECTION_CLOSING', 'connection is closing'); // never seen: the socket is gone
    if (this.subs.size >= this.maxSubscriptions) {
      throw new IotchainError(RPC_ERR.TOO_MANY_SUBSCRIPTIONS, `too many subscriptions on this connection (max ${this.maxSubscriptions})`, { max: this.maxSubscriptions });
    }
    if (event === 'newBlock') {
      let blocks = 0;
      for (const x of this.subs.values()) if (x.event === 'newBlock') blocks++;
      if (blocks >= MAX_NEW_BLOCK_SUBSCRIPTIONS) {
        throw new IotchainError(RPC_ERR.TOO_MANY_SUBSCRIPTIONS, `too many newBlock subscriptions on this connection (max ${MAX_NEW_BLOCK_SUBSCRIPTIONS}; each gets every block)`, { max: MAX_NEW_BLOCK_SUBSCRIPTIONS });
      }
    }
    const sub: Subscription = { id: toHex(randomBytes(16)), event, active: false, queued: [], ended: false, stop: () => {} };
    if (hash !== undefined) {
      sub.hash = hash;
      sub.stop = this.backend.onTx(hash, (status) => {
        if (isFinal(status)) this.deliver(sub, status, true);
      });
    } else {
      sub.stop = this.backend.onNewBlock((ev) => this.deliver(sub, ev, false));
    }
    this.subs.set(sub.id, sub);
    this.pending.push(sub);
    this.log.debug('rpc subscribe', { event, subscription: sub.id });
    return sub.id;
  }

  private unsubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    if (sub === undefined) return false;
    this.remove(sub);
    return true;
  }

  /** Called by the transport after it sent the responses of the current message. */
  activatePending(): void {
    const subs = this.pending;
    this.pending = [];
    for (const sub of subs) {
      if (!this.subs.has(sub.id)) continue; // unsubscribed in the same batch
      sub.active = true;
      for (const result of sub.queued) this.notify(sub, result);
      sub.queued = [];
      if (sub.ended) this.subs.delete(sub.id);
      else if (sub.hash !== undefined) this.checkTxOnce(sub, sub.hash);
    }
  }

  private checkTxOnce(sub: Subscription, hash: Uint8Array): void {
    this.backend.getTx(hash).then(
      (status) => {
        if (isFinal(status)) this.deliver(sub, status, true);
      },
      (err: unknown) => this.log.debug('rpc tx subscription: status check failed', { err: err instanceof Error ? err.message : String(err) }),
    );
  }

  private deliver(sub: Subscription, result: unknown, final: boolean): void {
    if (sub.ended || !this.subs.has(sub.id)) return;
    if (final) {
      sub.ended = true;
      sub.stop();
    }
    if (!sub.active) {
      sub.queued.push(result);
      return;
    }
    this.notify(sub, result);
    if (final) this.subs.delete(sub.id);
  }

  private notify(sub: Subscription, result: unknown): void {
    this.send({ jsonrpc: '2.0', method: SUBSCRIPTION_METHOD, params: { subscription: sub.id, result } });
  }

  private remove(sub: Subscription): void {
    this.subs.delete(sub.id);
    if (!sub.ended) {
      sub.ended = true;
      sub.stop();
    }
  }

  /** Removes every subscription (socket closed); later subscribe calls fail. */
  closeAll(): void {
    this.closed = true;
    for (const sub of [...this.subs.values()]) this.remove(sub);
    this.pending = [];
  }
}
