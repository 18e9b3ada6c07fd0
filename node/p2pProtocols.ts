// The two stream protocols of node/p2p.ts, on libp2p 3 message streams:
// - consensus: one long-lived outbound stream per peer carrying varint-length-prefixed frames
//   (OutboundChannels / receiveFrames);
// - sync: one stream per request, a single length-prefixed request then a single response
//   (request / respond).
// Every inbound frame is checked against its size limit from its length prefix, before its body is
// buffered; an oversize or undecodable frame is reported to the caller (who scores the sender) and
// the stream is aborted.
import { LengthPrefixedDecoder, lpStream } from '@libp2p/utils';
import type { Connection, Stream } from '@libp2p/interface';

export interface FrameLog {
  debug(msg: string, obj?: object): void;
}

/** Why an inbound frame was refused. */
export type BadFrame = 'oversize' | 'malformed';

const ERR_NAMES_OVERSIZE = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'StreamBufferError']);

/** Classifies an error thrown while reading a length-prefixed frame: a peer fault, or not (EOF, reset, timeout). */
export function badFrameOf(err: unknown): BadFrame | undefined {
  if (!(err instanceof Error)) return undefined;
  if (ERR_NAMES_OVERSIZE.has(err.name)) return 'oversize';
  if (err.name === 'InvalidParametersError' || err instanceof RangeError) return 'malformed';
  return undefined;
}

/** How much a stream may buffer beyond one maximal frame (the next frames' bytes arriving in the same chunk). */
const READ_SLACK = 256 * 1024;

export interface ReceiveFramesOptions {
  maxBytes: number;
  /** Called in order for each frame; a returned promise counts against `maxInFlight`. */
  onFrame(frame: Uint8Array): void | Promise<void>;
  onBadFrame(reason: BadFrame, err: Error): void;
  /** Pause reading (backpressure through the muxer) while this many frames are being handled. */
  maxInFlight?: number;
  log: FrameLog;
}

/**
 * Reads frames from a long-lived inbound stream until it closes. Frames are handed over as soon as
 * they are complete; a frame whose length prefix exceeds `maxBytes` aborts the stream without its
 * body being buffered.
 */
export function receiveFrames(stream: Stream, opts: ReceiveFramesOptions): void {
  const decoder = new LengthPrefixedDecoder({ maxDataLength: opts.maxBytes, maxBufferSize: opts.maxBytes + READ_SLACK });
  const maxInFlight = opts.maxInFlight ?? 64;
  let inFlight = 0;
  let failed = false;
  stream.maxReadBufferLength = opts.maxBytes + READ_SLACK;
  const settle = () => {
    inFlight -= 1;
    if (inFlight < maxInFlight && stream.readStatus === 'paused') stream.resume();
  };
  const onMessage = (evt: { data: Parameters<LengthPrefixedDecoder['decode']>[0] }) => {
    if (failed) return;
    try {
      for (const frame of decoder.decode(evt.data)) {
        const r = opts.onFrame(frame.subarray());
        if (r !== undefined) {
          inFlight += 1;
          r.then(settle, settle);
        }
      }
    } catch (e) {
      failed = true;
      const err = e instanceof Error ? e : new Error(String(e));
      opts.onBadFrame(badFrameOf(err) ?? 'malformed', err);
      stream.abort(err);
      return;
    }
    if (inFlight >= maxInFlight && stream.readStatus === 'readable') stream.pause();
  };
  stream.addEventListener('message', onMessage);
  stream.addEventListener(
    'close',
    (evt) => {
      stream.removeEventListener('message', onMessage);
      if (evt.error !== undefined && !failed) opts.log.debug('inbound stream closed', { protocol: stream.protocol, err: evt.error.message });
    },
    { once: true },
  );
  stream.addEventListener(
    'remoteCloseWrite',
    () => {
      stream.close().catch((err: unknown) => stream.abort(err instanceof Error ? err : new Error(String(err))));
    },
    { once: true },
  );
}

export interface OutboundChannelsOptions {
  protocol: string;
  /** Opens a stream to `peer` on `protocol` over an existing connection. */
  open(peer: string, protocol: string, signal: AbortSignal): Promise<Stream>;
  /** Most bytes queued for one peer before its stream is reset (a slow peer loses messages, never blocks us). */
  maxQueuedBytes: number;
  openTimeoutMs: number;
  log: FrameLog;
}

/**
 * One long-lived outbound stream per peer for a protocol. Writes never wait for the remote: a frame
 * is queued on the stream and the call returns; a peer that does not read fast enough has its stream
 * reset when `maxQueuedBytes` is exceeded, and the next write opens a fresh one.
 */
export class OutboundChannels {
  private readonly streams = new Map<string, Promise<Stream>>();
  private readonly controller = new AbortController();

  constructor(private readonly opts: OutboundChannelsOptions) {}

  /** Queues one frame for `peer`; retries once on a fresh stream if the cached one has died. */
  async write(peer: string, msg: Uint8Array): Promise<void> {
    const frame = encodeFrame(msg);
    for (let attempt = 0; ; attempt++) {
      const fresh = !this.streams.has(peer);
      const stream = await this.stream(peer);
      try {
        if (stream.writeStatus !== 'writable' || stream.status !== 'open') throw new Error(`stream is ${stream.status}`);
        stream.send(frame);
        return;
      } catch (err) {
        this.drop(peer, stream, err);
        if (fresh || attempt > 0) throw err;
      }
    }
  }

  /** Forgets (and resets) the stream to `peer`, e.g. on disconnect. */
  close(peer: string): void {
    const p = this.streams.get(peer);
    if (p === undefined) return;
    this.streams.delete(peer);
    p.then((s) => s.abort(new Error('peer disconnected')), () => undefined);
  }

  closeAll(): void {
    this.controller.abort();
    for (const peer of [...this.streams.keys()]) this.close(peer);
  }

  private stream(peer: string): Promise<Stream> {
    let p = this.streams.get(peer);
    if (p === undefined) {
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.opts.openTimeoutMs)]);
      p = this.opts.open(peer, this.opts.protocol, signal).then((s) => {
        s.maxWriteBufferLength = this.opts.maxQueuedBytes;
        s.addEventListener('close', () => {
          if (this.streams.get(peer) === p) this.streams.delete(peer);
        });
        // Nothing is expected back on this stream; drop anything that arrives.
        s.addEventListener('message', () => undefined);
        return s;
      });
      this.streams.set(peer, p);
      p.catch(() => {
        if (this.streams.get(peer) === p) this.streams.delete(peer);
      });
    }
    return p;
  }

  private drop(peer: string, stream: Stream, err: unknown): void {
    this.opts.log.debug('outbound stream dropped', { peer, protocol: this.opts.protocol, err: err instanceof Error ? err.message : String(err) });
    const p = this.streams.get(peer);
    if (p !== undefined) {
      p.then((s) => {
        if (s === stream && this.streams.get(peer) === p) this.streams.delete(peer);
      }, () => undefined);
    }
    if (stream.status === 'open') stream.abort(err instanceof Error ? err : new Error(String(err)));
  }
}

/** varint(length) ‖ msg, as one buffer (so a frame is queued atomically). */
export function encodeFrame(msg: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = msg.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  len.push(n);
  const out = new Uint8Array(len.length + msg.length);
  out.set(len, 0);
  out.set(msg, len.length);
  return out;
}

export interface RequestOptions {
  maxResponseBytes: number;
  signal: AbortSignal;
}

/** Client half of a request/response exchange on a fresh stream: write one frame, half-close, read one frame. */
export async function request(stream: Stream, req: Uint8Array, opts: RequestOptions): Promise<Uint8Array> {
  const lp = lpStream(stream, { maxDataLength: opts.maxResponseBytes, maxBufferSize: opts.maxResponseBytes + READ_SLACK });
  try {
    await lp.write(req, { signal: opts.signal });
    await stream.close({ signal: opts.signal });
    const res = await lp.read({ signal: opts.signal });
    return res.subarray();
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

export interface RespondOptions {
  maxRequestBytes: number;
  maxResponseBytes: number;
  /** Bound on reading the request and on the handler. */
  timeoutMs: number;
  handler(req: Uint8Array): Promise<Uint8Array>;
  onBadFrame(reason: BadFrame, err: Error): void;
  log: FrameLog;
}

/** Server half: read one request frame, answer it with one frame, close. */
export async function respond(stream: Stream, connection: Connection, opts: RespondOptions): Promise<void> {
  // Give up when the requester goes away (it resets the stream on its own timeout) or after timeoutMs.
  const gone = new AbortController();
  const onClose = () => gone.abort(new Error('stream closed by the requester'));
  stream.addEventListener('close', onClose, { once: true });
  const signal = AbortSignal.any([gone.signal, AbortSignal.timeout(opts.timeoutMs)]);
  const lp = lpStream(stream, { maxDataLength: opts.maxRequestBytes, maxBufferSize: opts.maxRequestBytes + READ_SLACK });
  try {
    const req = await lp.read({ signal });
    const res = await raceAbort(opts.handler(req.subarray()), signal);
    if (res.length > opts.maxResponseBytes) throw new Error(`response of ${res.length} bytes exceeds the limit of ${opts.maxResponseBytes}`);
    await lp.write(res, { signal });
    await stream.close({ signal });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const bad = badFrameOf(err);
    if (bad !== undefined) opts.onBadFrame(bad, err);
    else opts.log.debug('sync request failed', { peer: connection.remotePeer.toString(), err: err.message });
    stream.abort(err);
  } finally {
    stream.removeEventListener('close', onClose);
  }
}

/** Rejects with the signal's reason when it aborts first (the losing promise is left to settle). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
