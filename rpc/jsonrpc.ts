// JSON-RPC 2.0 envelopes: parse a payload (one request or a batch), route each request, and build
// the serialized response. Shared by the HTTP and WebSocket transports; knows nothing of either.
import { RPC_CODE, RPC_ERR, rpcError, toJsonRpcError, isInternal, type JsonRpcErrorObject } from './errors.js';
import { IotchainError } from '../lib/errors.js';
import type { MethodHandler } from './methods.js';
import type { Log } from '../lib/log.js';

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  /** Absent for a notification (no response is sent). */
  id?: JsonRpcId;
  method: string;
  params?: Record<string, unknown> | unknown[];
}

export type JsonRpcResponse<T = unknown> =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: T }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject };

export interface JsonRpcNotification<P = unknown> {
  jsonrpc: '2.0';
  method: string;
  params: P;
}

/** Method of the server → client notifications carrying subscription results. */
export const SUBSCRIPTION_METHOD = 'chain_subscription';

export interface SubscriptionParams<T = unknown> {
  subscription: string;
  result: T;
}

/** The injected logger (lib/log.ts). */
export type RpcLogger = Log;

export interface Router {
  /** The handler for a method, or a not-found message (the name is untrusted: keep it out of logs ≥ info). */
  route(method: string): MethodHandler | { notFound: string };
  maxBatch: number;
  /** Once a batch's responses reach this many characters, its later members are not run (RPC_RESPONSE_TOO_LARGE). */
  maxResponseBytes: number;
  /** A batch yields to the event loop between members once it has run this long (ms) since the last yield. */
  yieldAfterMs: number;
  log: RpcLogger;
  /** Optional: sees a batch's requests (parsed, unchecked) once before they run (rpc/methods.ts prepareTxSends). */
  prepareBatch?: (requests: readonly unknown[]) => void;
}

function isValidId(id: unknown): id is JsonRpcId {
  return id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

function serializeError(id: JsonRpcId, error: JsonRpcErrorObject): string {
  try {
    return JSON.stringify({ jsonrpc: '2.0', id, error });
  } catch {
    // error.data that JSON cannot carry (a bigint, a cycle): send the error without it.
    return JSON.stringify({ jsonrpc: '2.0', id, error: { code: error.code, message: error.message } });
  }
}

/**
 * Handles one payload (the text of an HTTP body or a WebSocket message). Returns the serialized
 * response, or undefined when nothing is to be sent (a notification, or a batch of notifications).
 * Batch members run one after the other, in order (a batch of txs from one sender keeps its nonces
 * in order).
 */
export async function handlePayload(text: string, router: Router): Promise<string | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return serializeError(null, rpcError(RPC_CODE.PARSE_ERROR, 'parse error: invalid JSON'));
  }
  if (!Array.isArray(value)) return handleOne(value, router);
  if (value.length === 0) return serializeError(null, rpcError(RPC_CODE.INVALID_REQUEST, 'invalid request: empty batch'));
  if (value.length > router.maxBatch) {
    return serializeError(null, rpcError(RPC_CODE.INVALID_REQUEST, `invalid request: batch of ${value.length} exceeds the limit of ${router.maxBatch}`));
  }
  try {
    router.prepareBatch?.(value);
  } catch (e) {
    router.log.warn('rpc batch preparation failed', { err: e instanceof Error ? e.message : String(e) });
  }
  const parts: string[] = [];
  let bytes = 0;
  let sliceStart = performance.now();
  for (const item of value) {
    // Members run one after the other, but not in one go: once they have held the event loop for
    // yieldAfterMs it serves consensus, p2p and other clients before the next one (a batch of 100
    // full-block reads held it for 1.9 s: audit, session 7). Not after every member: a batch of
    // tx_send yielding 99 times split its txs over several gossip batches, +17 % validator CPU per tx.
    if (performance.now() - sliceStart >= router.yieldAfterMs) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
    if (bytes > router.maxResponseBytes) {
      // the response is full: the rest are answered with an error, not run (their ids are kept)
      const r = typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as Record<string, unknown>) : {};
      if ('id' in r) {
        const id: JsonRpcId = isValidId(r.id) ? r.id : null;
        parts.push(serializeError(id, toJsonRpcError(new IotchainError(RPC_ERR.RESPONSE_TOO_LARGE, `not run: the batch's response reached ${router.maxResponseBytes} bytes; send the rest again`, { max: router.maxResponseBytes }))));
      }
      continue;
    }
    const out = await handleOne(item, router);
    if (out !== undefined) {
      parts.push(out);
      bytes += out.length;
    }
  }
  return parts.length === 0 ? undefined : `[${parts.join(',')}]`;
}

async function handleOne(req: unknown, router: Router): Promise<string | undefined> {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    return serializeError(null, rpcError(RPC_CODE.INVALID_REQUEST, 'invalid request: not a JSON-RPC request object'));
  }
  const r = req as Record<string, unknown>;
  const hasId = 'id' in r;
  const id: JsonRpcId = hasId && isValidId(r.id) ? r.id : null;
  if (r.jsonrpc !== '2.0') return serializeError(id, rpcError(RPC_CODE.INVALID_REQUEST, 'invalid request: jsonrpc must be "2.0"'));
  if (hasId && !isValidId(r.id)) return serializeError(null, rpcError(RPC_CODE.INVALID_REQUEST, 'invalid request: id must be a string, a number or null'));
  if (typeof r.method !== 'string') return serializeError(id, rpcError(RPC_CODE.INVALID_REQUEST, 'invalid request: method must be a string'));
  if (r.params !== undefined && (typeof r.params !== 'object' || r.params === null)) {
    return serializeError(id, rpcError(RPC_CODE.INVALID_REQUEST, 'invalid request: params must be an object or an array'));
  }
  const method = r.method;
  const handler = router.route(method);
  if (typeof handler !== 'function') {
    return hasId ? serializeError(id, rpcError(RPC_CODE.METHOD_NOT_FOUND, handler.notFound)) : undefined;
  }
  let json: string | undefined;
  try {
    const result = await handler(r.params);
    json = JSON.stringify(result) ?? 'null';
  } catch (err) {
    if (isInternal(err)) {
      router.log.error('rpc method failed', { method, err: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
    } else {
      router.log.debug('rpc method rejected', { method, code: (err as { code?: unknown }).code });
    }
    return hasId ? serializeError(id, toJsonRpcError(err)) : undefined;
  }
  return hasId ? `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${json}}` : undefined;
}
