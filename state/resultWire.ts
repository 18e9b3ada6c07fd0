// A direct writer of the canonical encoding of transaction results (state/block.ts txResultCodec),
// in front of the generic encoder. A block's results are encoded once per validator (the leaves of
// resultsRoot, and the stored list), and the generic path (the typed codec's toPlain into arrays, then
// msgpackr) was a fifth of a transfer block's execution: a transfer's result is an event with three
// string attributes. This writer handles results whose strings are all ASCII (one byte per char,
// so the byte length is the string length) and within the codec's bounds, writing msgpack's minimal
// headers exactly as the generic encoder does; any other result goes to the caller's fallback (the
// generic encoder), which also refuses it with the codec's own error. So the bytes are the same
// either way: test/unit/state/resultWire.test.ts compares both on random and edge-case results.
import type { TxEvent, TxResult } from './block.js';

/** The txResultCodec / eventCodec bounds (state/block.ts passes them in: the two files do not import each other). */
export interface ResultBounds {
  code: number;
  message: number;
  events: number;
  module: number;
  type: number;
  attributes: number;
  key: number;
  value: number;
}

/** Bytes of an ASCII string within `max` (its length), or -1 if it is not a string, too long or not ASCII. */
function asciiLength(s: unknown, max: number): number {
  if (typeof s !== 'string' || s.length > max) return -1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return -1;
  return s.length;
}

/** msgpack's minimal str header size for `n` bytes (fixstr, str8, str16; the bounds keep n < 2^16). */
const strHead = (n: number): number => (n < 32 ? 1 : n < 256 ? 2 : 3);
/** msgpack's minimal array header size for `n` items (fixarray, array16; the bounds keep n < 2^16). */
const arrayHead = (n: number): number => (n < 16 ? 1 : 3);

/** Encoded size of a result, or -1 if the writer does not handle it. */
function sizeOf(r: TxResult, b: ResultBounds): number {
  if (typeof r !== 'object' || r === null) return -1;
  const code = asciiLength(r.code, b.code);
  const message = asciiLength(r.message, b.message);
  const events = r.events;
  if (code < 0 || message < 0 || !Array.isArray(events) || events.length > b.events) return -1;
  let n = 1 + strHead(code) + code + strHead(message) + message + arrayHead(events.length);
  for (const e of events as TxEvent[]) {
    if (typeof e !== 'object' || e === null) return -1;
    const mod = asciiLength(e.module, b.module);
    const type = asciiLength(e.type, b.type);
    const attrs = e.attributes;
    if (mod < 0 || type < 0 || !Array.isArray(attrs) || attrs.length > b.attributes) return -1;
    n += 1 + strHead(mod) + mod + strHead(type) + type + arrayHead(attrs.length);
    for (const a of attrs) {
      if (!Array.isArray(a) || a.length !== 2) return -1;
      const k = asciiLength(a[0], b.key);
      const v = asciiLength(a[1], b.value);
      if (k < 0 || v < 0) return -1;
      n += 1 + strHead(k) + k + strHead(v) + v;
    }
  }
  return n;
}

function writeArrayHead(out: Uint8Array, at: number, n: number): number {
  if (n < 16) {
    out[at] = 0x90 | n;
    return at + 1;
  }
  out[at] = 0xdc;
  out[at + 1] = n >> 8;
  out[at + 2] = n & 0xff;
  return at + 3;
}

function writeStr(out: Uint8Array, at: number, s: string): number {
  const n = s.length;
  if (n < 32) out[at++] = 0xa0 | n;
  else if (n < 256) {
    out[at++] = 0xd9;
    out[at++] = n;
  } else {
    out[at++] = 0xda;
    out[at++] = n >> 8;
    out[at++] = n & 0xff;
  }
  for (let i = 0; i < n; i++) out[at + i] = s.charCodeAt(i);
  return at + n;
}

/** A result and an event have one shape: a 3-array of two strings and a list (its header only here). */
function writeHead(out: Uint8Array, at: number, a: string, b: string, items: number): number {
  out[at++] = 0x93;
  at = writeStr(out, at, a);
  at = writeStr(out, at, b);
  return writeArrayHead(out, at, items);
}

function writeResult(out: Uint8Array, at: number, r: TxResult): number {
  const events = r.events;
  at = writeHead(out, at, r.code, r.message, events.length); // [code, message, events]
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const attrs = e.attributes;
    at = writeHead(out, at, e.module, e.type, attrs.length); // [module, type, attributes]
    for (let j = 0; j < attrs.length; j++) {
      const a = attrs[j]!;
      out[at++] = 0x92; // [key, value]
      at = writeStr(out, at, a[0]);
      at = writeStr(out, at, a[1]);
    }
  }
  return at;
}

/**
 * The canonical encoding of each result, as views into one array (one allocation per block, not
 * per result); `fallback` encodes the results this writer does not handle (and throws for invalid ones).
 */
export function writeTxResults(results: readonly TxResult[], bounds: ResultBounds, fallback: (r: TxResult) => Uint8Array): Uint8Array[] {
  const sizes = results.map((r) => sizeOf(r, bounds));
  let total = 0;
  for (const s of sizes) if (s > 0) total += s;
  const buf = new Uint8Array(total);
  const out: Uint8Array[] = new Array(results.length);
  let at = 0;
  for (let i = 0; i < results.length; i++) {
    const s = sizes[i]!;
    if (s < 0) {
      out[i] = fallback(results[i]!);
      continue;
    }
    const end = writeResult(buf, at, results[i]!);
    if (end - at !== s) throw new Error(`result ${i}: wrote ${end - at} bytes, sized ${s}`); // a bug here, never bad input
    out[i] = buf.subarray(at, end);
    at = end;
  }
  return out;
}
