// JSON-RPC 2.0 server: HTTP POST / and WebSocket /ws on one node:http server, bound to loopback by
// default. It takes the narrow RpcBackend (rpc/backend.ts) and never imports node/ (STYLE.md).
// Transport only: envelopes are in jsonrpc.ts, methods in methods.ts, subscriptions in
// subscriptions.ts, error codes in errors.ts. Limits and formats: rpc/README.md.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { RpcBackend } from './backend.js';
import { createMethods, prepareTxSends, METHOD_NAMES, type MethodHandler } from './methods.js';
import { RPC_CODE, rpcError } from './errors.js';
import { handlePayload, type Router, type RpcLogger, type JsonRpcNotification, type SubscriptionParams } from './jsonrpc.js';
import { SubscriptionSession, SUBSCRIPTION_METHOD_NAMES } from './subscriptions.js';

export type { RpcLogger } from './jsonrpc.js';

export interface RpcServerOptions {
  backend: RpcBackend;
  /** Interface to bind; loopback unless configured otherwise (SPEC §4). */
  host?: string;
  /** 0 = an ephemeral port (see start()'s result). */
  port: number;
  /** Largest HTTP body or WebSocket message (bytes). */
  maxBodyBytes?: number;
  /** Most requests in one batch. */
  maxBatch?: number;
  /** Once a batch's responses reach this many characters, its later members get RPC_RESPONSE_TOO_LARGE. */
  maxResponseBytes?: number;
  /** A batch lets the event loop run other work between members once it has run this long (ms). */
  batchYieldAfterMs?: number;
  /** Open HTTP connections at once (WebSocket ones included); beyond, new connections are dropped. */
  maxHttpConnections?: number;
  /**
   * A connection with no traffic either way for this long is closed: a client that stops reading its
   * response would otherwise keep it in memory for ever (the request timeout covers requests only).
   */
  idleSocketTimeoutMs?: number;
  maxWsConnections?: number;
  maxSubscriptionsPerSocket?: number;
  /** Whole request (headers + body) must arrive within this time (slow-body protection). */
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** WebSocket liveness: ping every interval, drop a socket that missed the previous pong. 0 = off. */
  wsPingIntervalMs?: number;
  /** A WebSocket client that lets this much output pile up unread is disconnected. */
  maxWsBufferedBytes?: number;
  /**
   * Browser origins allowed to open /ws. A WebSocket upgrade that carries an Origin header not in
   * this list is refused (403), so a web page cannot drive a node on the operator's loopback.
   */
  allowedOrigins?: string[];
  log?: RpcLogger;
}

export const RPC_DEFAULTS = {
  host: '127.0.0.1',
  maxBodyBytes: 1024 * 1024,
  maxBatch: 100,
  maxResponseBytes: 8 * 1024 * 1024,
  batchYieldAfterMs: 10,
  maxHttpConnections: 1024,
  idleSocketTimeoutMs: 60_000,
  maxWsConnections: 256,
  maxSubscriptionsPerSocket: 100,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  wsPingIntervalMs: 30_000,
  maxWsBufferedBytes: 4 * 1024 * 1024,
} as const;

/** JSON of notification results by object: a block's event is one object for every subscriber. */
const resultJson = new WeakMap<object, string>();

/**
 * JSON.stringify(note), with the result serialized once per event object: every `newBlock`
 * subscription of every socket got its own JSON.stringify of the whole block event, inside the
 * commit (8 sockets × 100 subscriptions held it for 639 ms: audit, session 7).
 */
export function serializeNote(note: JsonRpcNotification<SubscriptionParams>): string {
  const r = note.params.result;
  let json = typeof r === 'object' && r !== null ? resultJson.get(r) : undefined;
  if (json === undefined) {
    json = JSON.stringify(r) ?? 'null';
    if (typeof r === 'object' && r !== null) resultJson.set(r, json);
  }
  return `{"jsonrpc":"2.0","method":${JSON.stringify(note.method)},"params":{"subscription":${JSON.stringify(note.params.subscription)},"result":${json}}}`;
}

/** Requests read from one WebSocket before it stops reading until they are answered. */
const WS_MAX_IN_FLIGHT = 16;
/** After a 413, how long the socket may linger so the client can read the answer before it is cut. */
const OVERSIZE_LINGER_MS = 500;

export interface RpcServerAddress {
  host: string;
  port: number;
  /** http://host:port — the WebSocket endpoint is the same with ws:// and path /ws. */
  url: string;
}

export interface RpcServer {
  start(): Promise<RpcServerAddress>;
  stop(): Promise<void>;
}

const NOOP_LOG: RpcLogger = { debug() {}, info() {}, warn() {}, error() {} };

function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  return value.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** Reads the body up to `limit` bytes; on overflow stops reading (pauses) and resolves 'too-large'. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.pause();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        cleanup();
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('request closed before its body was read'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}

export function createRpcServer(opts: RpcServerOptions): RpcServer {
  const log = opts.log ?? NOOP_LOG;
  const host = opts.host ?? RPC_DEFAULTS.host;
  const maxBodyBytes = opts.maxBodyBytes ?? RPC_DEFAULTS.maxBodyBytes;
  const maxBatch = opts.maxBatch ?? RPC_DEFAULTS.maxBatch;
  const maxResponseBytes = opts.maxResponseBytes ?? RPC_DEFAULTS.maxResponseBytes;
  const yieldAfterMs = opts.batchYieldAfterMs ?? RPC_DEFAULTS.batchYieldAfterMs;
  const maxWsConnections = opts.maxWsConnections ?? RPC_DEFAULTS.maxWsConnections;
  const maxSubscriptions = opts.maxSubscriptionsPerSocket ?? RPC_DEFAULTS.maxSubscriptionsPerSocket;
  const requestTimeoutMs = opts.requestTimeoutMs ?? RPC_DEFAULTS.requestTimeoutMs;
  const headersTimeoutMs = Math.min(opts.headersTimeoutMs ?? RPC_DEFAULTS.headersTimeoutMs, requestTimeoutMs);
  const wsPingIntervalMs = opts.wsPingIntervalMs ?? RPC_DEFAULTS.wsPingIntervalMs;
  const maxWsBufferedBytes = opts.maxWsBufferedBytes ?? RPC_DEFAULTS.maxWsBufferedBytes;
  const allowedOrigins = new Set(opts.allowedOrigins ?? []);
  const methods = createMethods(opts.backend);
  const lingerTimers = new Set<NodeJS.Timeout>();

  function lookup(method: string, extra: Readonly<Record<string, MethodHandler>> | undefined): MethodHandler | { notFound: string } {
    const shown = method.length > 64 ? method.slice(0, 64) + '…' : method;
    if ((METHOD_NAMES as readonly string[]).includes(method)) return methods[method as (typeof METHOD_NAMES)[number]];
    if ((SUBSCRIPTION_METHOD_NAMES as readonly string[]).includes(method)) {
      const h = extra?.[method];
      return h ?? { notFound: `method not found: ${shown} is only available over WebSocket (/ws)` };
    }
    return { notFound: `method not found: ${shown}` };
  }

  const prepareBatch = (requests: readonly unknown[]): void => prepareTxSends(requests, opts.backend);
  const httpRouter: Router = { route: (m) => lookup(m, undefined), maxBatch, maxResponseBytes, yieldAfterMs, log, prepareBatch };

  // ---- HTTP ----
  async function onHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, '{"error":"method not allowed"}', { allow: 'GET, HEAD' });
      return sendJson(res, 200, '{"ok":true}');
    }
    if (path !== '/') return sendJson(res, 404, '{"error":"not found: JSON-RPC is served by POST / and WebSocket /ws"}');
    if (req.method !== 'POST') return sendJson(res, 405, '{"error":"method not allowed: use POST"}', { allow: 'POST' });
    if (!isJsonContentType(req.headers['content-type'])) {
      return sendJson(res, 415, '{"error":"unsupported media type: use content-type application/json"}');
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too-large') {
      log.debug('rpc request body too large', { limit: maxBodyBytes });
      res.on('finish', () => {
        // Stop reading: give the client a moment to read the 413, then cut the connection.
        const timer = setTimeout(() => {
          lingerTimers.delete(timer);
          req.socket.destroy();
        }, OVERSIZE_LINGER_MS);
        timer.unref();
        lingerTimers.add(timer);
      });
      return sendJson(res, 413, JSON.stringify({ error: `request body exceeds ${maxBodyBytes} bytes` }), { connection: 'close' });
    }
    const out = await handlePayload(body.toString('utf8'), httpRouter);
    if (out === undefined) {
      res.writeHead(204);
      res.end();
      return;
    }
    sendJson(res, 200, out);
  }

  const server = createServer(
    { requestTimeout: requestTimeoutMs, headersTimeout: headersTimeoutMs, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeoutMs / 2))) },
    (req, res) => {
      onHttpRequest(req, res).catch((err: unknown) => {
        log.debug('rpc http request failed', { err: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent && !res.destroyed) sendJson(res, 500, '{"error":"internal error"}');
        else res.destroy();
      });
    },
  );
  server.keepAliveTimeout = 5_000;
  server.maxConnections = opts.maxHttpConnections ?? RPC_DEFAULTS.maxHttpConnections;
  server.setTimeout(opts.idleSocketTimeoutMs ?? RPC_DEFAULTS.idleSocketTimeoutMs, (socket) => {
    log.debug('rpc connection idle (response not read?): closing');
    socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    log.debug('rpc http client error', { err: err.message, code: err.code });
    if (!socket.writable) return void socket.destroy();
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  });

  // ---- WebSocket ----
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBodyBytes, clientTracking: true });
  const alive = new WeakSet<WebSocket>();
  const sessions = new Map<WebSocket, SubscriptionSession>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/ws') return rejectUpgrade(socket, 404, 'Not Found');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) return rejectUpgrade(socket, 403, 'Forbidden');
    if (wss.clients.size >= maxWsConnections) {
      log.warn('rpc websocket connection refused: limit reached', { max: maxWsConnections });
      return rejectUpgrade(socket, 503, 'Service Unavailable');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const send = (text: string): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > 0 && ws.bufferedAmount + text.length > maxWsBufferedBytes) {
        log.warn('rpc websocket client too slow: disconnecting', { buffered: ws.bufferedAmount });
        ws.terminate();
        return;
      }
      ws.send(text);
    };
    // notifications: nothing is serialized for a socket that is gone, and a block's event once for all
    const session = new SubscriptionSession(opts.backend, (note) => ws.readyState === WebSocket.OPEN && send(serializeNote(note)), maxSubscriptions, log);
    sessions.set(ws, session);
    const router: Router = { route: (m) => lookup(m, session.methods), maxBatch, maxResponseBytes, yieldAfterMs, log, prepareBatch };
    alive.add(ws);
    let queue: Promise<void> = Promise.resolve();
    let inFlight = 0;

    ws.on('pong', () => alive.add(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      inFlight++;
      if (inFlight >= WS_MAX_IN_FLIGHT) ws.pause();
      const text = isBinary ? '' : rawToString(data);
      queue = queue.then(async () => {
        const out = isBinary ? JSON.stringify({ jsonrpc: '2.0', id: null, error: rpcError(RPC_CODE.INVALID_REQUEST, 'invalid request: send JSON as text frames') }) : await handlePayload(text, router);
        if (out !== undefined) send(out);
        session.activatePending();
      }).catch((err: unknown) => {
        log.error('rpc websocket message failed', { err: err instanceof Error ? err.message : String(err) });
      }).finally(() => {
        inFlight--;
        if (ws.isPaused && inFlight < WS_MAX_IN_FLIGHT / 2) ws.resume();
      });
    });
    ws.on('close', () => {
      session.closeAll();
      sessions.delete(ws);
    });
    ws.on('error', (err) => log.debug('rpc websocket error', { err: err.message }));
  });

  let pingTimer: NodeJS.Timeout | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;

  return {
    async start(): Promise<RpcServerAddress> {
      if (started) throw new Error('rpc server already started');
      started = true;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => log.error('rpc server error', { err: err.message }));
      if (wsPingIntervalMs > 0) {
        pingTimer = setInterval(() => {
          for (const ws of wss.clients) {
            if (!alive.has(ws)) {
              ws.terminate();
              continue;
            }
            alive.delete(ws);
            ws.ping();
          }
        }, wsPingIntervalMs);
        pingTimer.unref();
      }
      const addr = server.address() as AddressInfo;
      const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const out = { host: addr.address, port: addr.port, url: `http://${urlHost}:${addr.port}` };
      log.info('rpc server listening', { url: out.url });
      return out;
    },

    stop(): Promise<void> {
      stopping ??= (async () => {
        if (pingTimer !== undefined) clearInterval(pingTimer);
        for (const t of lingerTimers) clearTimeout(t);
        lingerTimers.clear();
        for (const session of sessions.values()) session.closeAll();
        await Promise.all(
          [...wss.clients].map(
            (ws) =>
              new Promise<void>((resolve) => {
                if (ws.readyState === WebSocket.CLOSED) return resolve();
                const timer = setTimeout(() => ws.terminate(), 1000);
                ws.once('close', () => {
                  clearTimeout(timer);
                  resolve();
                });
                ws.close(1001, 'server stopping');
              }),
          ),
        );
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        if (!started || !server.listening) return;
        await new Promise<void>((resolve, reject) => {
          server.close((err) => (err ? reject(err) : resolve()));
          server.closeAllConnections();
        });
      })();
      return stopping;
    },
  };
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
