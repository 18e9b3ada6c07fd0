import { InvalidMessageError, ERR } from './errors.js';

/** Bytes → lower-case 0x-hex. */
export function toHex(bytes: Uint8Array): string {
  return '0x' + hexSlice.call(bytes, 0, bytes.length);
}

/** 0x-hex → bytes; throws InvalidMessageError on anything that is not even-length 0x-prefixed hex. */
export function fromHex(hex: string, what = 'value', expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || hex.charCodeAt(0) !== 0x30 || hex.charCodeAt(1) !== 0x78) {
    throw new InvalidMessageError(ERR.ENCODING, `${what} must be 0x-prefixed hex with an even number of digits`);
  }
  // Buffer's hex decoder stops at the first pair that is not two hex digits: a full-length result
  // means every digit was hex (what /^0x([0-9a-fA-F]{2})*$/ checked, without running a regular
  // expression over a 300-character tx, which showed in validator profiles)
  const out = plainView(Buffer.from(hex.slice(2), 'hex'));
  if (out.length * 2 !== hex.length - 2) {
    throw new InvalidMessageError(ERR.ENCODING, `${what} must be 0x-prefixed hex with an even number of digits`);
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new InvalidMessageError(ERR.ENCODING, `${what} must be ${expectedLength} bytes, got ${out.length}`);
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.compare(a, b) === 0;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

// Buffer's latin1Slice reads any Uint8Array directly (one char per byte): a Map key for bytes without
// allocating a Buffer view first (several per tx on the hot path). It is not in Node's documented
// API, so the documented equivalent stands in where it is missing.
type StringSlice = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice: StringSlice =
  (Buffer.prototype as unknown as { latin1Slice?: StringSlice }).latin1Slice ??
  function (this: Uint8Array, start: number, end: number): string {
    return Buffer.from(this.buffer, this.byteOffset + start, end - start).toString('latin1');
  };

// Buffer's hexSlice likewise (tx ids, sender addresses and event attributes are hex several times
// per tx: 160 against 390 ns for 20 bytes through a Buffer view).
const hexSlice: StringSlice =
  (Buffer.prototype as unknown as { hexSlice?: StringSlice }).hexSlice ??
  function (this: Uint8Array, start: number, end: number): string {
    return Buffer.from(this.buffer, this.byteOffset + start, end - start).toString('hex');
  };

/** The bytes as a string of one char per byte: a cheap exact Map key (Buffer.from(b).toString('latin1')). */
export function bytesKey(b: Uint8Array): string {
  return latin1Slice.call(b, 0, b.length);
}

/**
 * The bytes of a `bytesKey` string. Written byte by byte into a fresh array: a short key (≤ 64
 * bytes) then lives on the V8 heap, where `Buffer.from(s, 'latin1')` took a slice of Buffer's 8 KiB
 * pool (a new pool, an ArrayBuffer, every few hundred keys) and needed a copy to be a plain array.
 */
export function keyBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return plainView(Buffer.concat(parts));
}

/**
 * A plain Uint8Array over the same memory (no copy): for Buffers (from Node, LevelDB, msgpackr) and
 * other Uint8Array subclasses handed to code that expects Uint8Array semantics (Buffer's `slice`
 * does not copy). Small Buffers (< 4 KiB) are slices of Node's shared 8 KiB pool; copying one into
 * `new Uint8Array` gave each value over 64 bytes an ArrayBuffer with its own off-heap store, which
 * every V8 scavenge sweeps (crypto/hash.ts). Like any pooled Buffer, a view keeps its slab alive.
 */
export function plainView(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A copy of `src` in Buffer's pool (see plainView), as a plain Uint8Array. */
export function copyBytes(src: Uint8Array): Uint8Array {
  const b = Buffer.allocUnsafe(src.length);
  b.set(src);
  return plainView(b);
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Unsigned big-endian fixed-width integer (width 1..8 bytes), for sortable keys. */
export function uintBE(value: number | bigint, width: number): Uint8Array {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(width * 8)) throw new RangeError(`value ${value} does not fit in ${width} bytes`);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function readUintBE(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}
