// Framing of the channel's messages inside the TLS stream: one JSON object per line, at most
// MAX_FRAME_BYTES, shaped {type, body}. Bytes are 0x-hex (the codecs' JSON form), payloads base64.
// The framing is the TLS adapter's business; the evidence itself (evidence.ts) knows nothing of it.
import type { Duplex } from 'node:stream';
import { sessionProofCodec, type SessionProof } from '../reputation/index.js';
import { helloCodec, type ChannelHello } from './evidence.js';
import { CHANNEL_ERR, ChannelError } from './errors.js';
import { IotchainError } from '../../lib/errors.js';

export const MAX_FRAME_BYTES = 256 * 1024;

export type ChannelMessage =
  | { type: 'hello'; hello: ChannelHello }
  | { type: 'evidence'; proof: SessionProof }
  | { type: 'get' }
  | { type: 'payload'; contentType: string; data: Uint8Array }
  | { type: 'refused'; code: string; message: string };

export function encodeMessage(m: ChannelMessage): string {
  let body: unknown;
  switch (m.type) {
    case 'hello':
      body = helloCodec.toJson(m.hello);
      break;
    case 'evidence':
      body = sessionProofCodec.toJson(m.proof);
      break;
    case 'get':
      body = {};
      break;
    case 'payload':
      body = { contentType: m.contentType, data: Buffer.from(m.data).toString('base64') };
      break;
    case 'refused':
      body = { code: m.code, message: m.message };
      break;
  }
  return JSON.stringify({ type: m.type, body }) + '\n';
}

function protocolError(message: string): never {
  throw new ChannelError(CHANNEL_ERR.PROTOCOL, message);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one frame; throws ChannelError CHANNEL_PROTOCOL naming what is wrong. */
export function decodeMessage(line: string): ChannelMessage {
  let j: unknown;
  try {
    j = JSON.parse(line);
  } catch {
    return protocolError('frame is not JSON');
  }
  if (!isObj(j) || typeof j.type !== 'string' || !isObj(j.body)) return protocolError('frame must be {type, body}');
  const b = j.body;
  try {
    switch (j.type) {
      case 'hello':
        return { type: 'hello', hello: helloCodec.fromJson(b, 'hello') };
      case 'evidence':
        return { type: 'evidence', proof: sessionProofCodec.fromJson(b, 'evidence') };
      case 'get':
        return { type: 'get' };
      case 'payload':
        if (typeof b.contentType !== 'string' || typeof b.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b.data)) return protocolError('payload must be {contentType, data (base64)}');
        return { type: 'payload', contentType: b.contentType.slice(0, 128), data: new Uint8Array(Buffer.from(b.data, 'base64')) };
      case 'refused':
        return { type: 'refused', code: typeof b.code === 'string' ? b.code.slice(0, 64) : 'UNKNOWN', message: typeof b.message === 'string' ? b.message.slice(0, 500) : '' };
      default:
        return protocolError(`unknown frame type ${JSON.stringify(j.type).slice(0, 40)}`);
    }
  } catch (e) {
    if (e instanceof ChannelError) throw e;
    if (e instanceof IotchainError) return protocolError(e.message);
    throw e;
  }
}

/** Messages over a byte stream: send() writes a frame, next() resolves with the next one. */
export class FramedChannel {
  private buf = '';
  private readonly queue: ChannelMessage[] = [];
  private waiter: { resolve: (m: ChannelMessage) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(private readonly stream: Duplex) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    stream.on('end', () => this.fail(new ChannelError(CHANNEL_ERR.CLOSED, 'the peer closed the channel')));
    stream.on('close', () => this.fail(new ChannelError(CHANNEL_ERR.CLOSED, 'the channel closed')));
    stream.on('error', (e: Error) => this.fail(new ChannelError(CHANNEL_ERR.CLOSED, `channel error: ${e.message}`)));
  }

  send(m: ChannelMessage): void {
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.write(encodeMessage(m));
  }

  /** The next message, or a ChannelError (closed, malformed frame, or nothing within timeoutMs). */
  next(timeoutMs: number): Promise<ChannelMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new ChannelError(CHANNEL_ERR.TIMEOUT, `no message from the peer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (x) => {
          clearTimeout(timer);
          resolve(x);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  private onData(chunk: string): void {
    if (this.failure) return;
    this.buf += chunk;
    for (let nl = this.buf.indexOf('\n'); nl !== -1; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() === '') continue;
      let m: ChannelMessage;
      try {
        m = decodeMessage(line);
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
        this.stream.destroy();
        return;
      }
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w.resolve(m);
      else this.queue.push(m);
    }
    if (Buffer.byteLength(this.buf) > MAX_FRAME_BYTES) {
      this.fail(new ChannelError(CHANNEL_ERR.PROTOCOL, `frame larger than ${MAX_FRAME_BYTES} bytes`));
      this.stream.destroy();
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }
}
