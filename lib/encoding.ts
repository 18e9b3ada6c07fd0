// Canonical encoding (SPEC §1 "Canonical encoding").
//
// msgpack is not canonical by itself, so every hashed or signed structure is described by a typed
// tuple schema built from the codecs below. Rules:
// - structures are arrays (tuples) in a fixed order, never maps;
// - integers are non-negative and < 2^53 ("u53"): below 2^32 msgpack's minimal int forms, from 2^32 up
//   the int64 form;
// - amounts (bigint, any size) are minimal big-endian byte strings (zero is the empty string);
// - byte strings and strings carry a size limit; strings are valid UTF-8;
// - `decode` rejects any input whose re-encoding differs from it (non-minimal ints, floats, maps,
//   invalid UTF-8, trailing bytes), so one value has exactly one encoding.
import { Packr } from 'msgpackr';
import { InvalidMessageError, ERR } from './errors.js';
import { bytesEqual, toHex, fromHex, plainView } from './hex.js';

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  bundleStrings: false,
  structuredClone: false,
  int64AsType: 'bigint',
  mapsAsObjects: false,
});

/** A codec turns a typed value into a msgpack-ready plain value and back, validating on the way in. */
export interface Codec<T> {
  /** Typed value → plain msgpack value (arrays, numbers, bigints, Uint8Arrays, strings, booleans, null). */
  toPlain(value: T): unknown;
  /** Plain value (as msgpackr decoded it) → typed value; throws InvalidMessageError naming `path`. */
  fromPlain(plain: unknown, path: string): T;
  /** Typed value → JSON value (bytes as 0x-hex, amounts as decimal strings, structs as objects). */
  toJson(value: T): unknown;
  /** JSON value → typed value, strictly validated; throws InvalidMessageError naming `path`. */
  fromJson(json: unknown, path: string): T;
}

function fail(path: string, what: string): never {
  throw new InvalidMessageError(ERR.ENCODING, `${path}: ${what}`);
}

export const MAX_U53 = Number.MAX_SAFE_INTEGER;

/** Non-negative integer < 2^53 (heights, times in ms, nonces, indices). */
export const u53: Codec<number> = {
  toPlain(v) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a u53: ${v}`);
    return v < 2 ** 32 ? v : BigInt(v);
  },
  fromPlain(p, path) {
    if (typeof p === 'number') {
      if (!Number.isSafeInteger(p) || p < 0) fail(path, 'expected a non-negative integer');
      return p;
    }
    if (typeof p === 'bigint') {
      if (p < 0n || p > BigInt(MAX_U53)) fail(path, 'integer out of range (0 .. 2^53-1)');
      return Number(p);
    }
    return fail(path, 'expected an integer');
  },
  toJson: (v) => v,
  fromJson(j, path) {
    if (typeof j === 'string' && /^(0|[1-9][0-9]{0,15})$/.test(j)) j = Number(j);
    if (typeof j !== 'number' || !Number.isSafeInteger(j) || j < 0) fail(path, 'expected a non-negative integer');
    return j;
  },
};

/** Unsigned integer with an upper bound (inclusive), e.g. u8 / u16 tags. */
export function uint(max: number): Codec<number> {
  return {
    toPlain(v) {
      if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new RangeError(`integer ${v} out of range 0..${max}`);
      return u53.toPlain(v);
    },
    fromPlain(p, path) {
      const v = u53.fromPlain(p, path);
      if (v > max) fail(path, `integer ${v} above maximum ${max}`);
      return v;
    },
    toJson: (v) => v,
    fromJson(j, path) {
      const v = u53.fromJson(j, path);
      if (v > max) fail(path, `integer ${v} above maximum ${max}`);
      return v;
    },
  };
}
export const u8 = uint(0xff);
export const u16 = uint(0xffff);

export const bool: Codec<boolean> = {
  toPlain: (v) => v,
  fromPlain(p, path) {
    if (typeof p !== 'boolean') fail(path, 'expected a boolean');
    return p;
  },
  toJson: (v) => v,
  fromJson(j, path) {
    if (typeof j !== 'boolean') fail(path, 'expected true or false');
    return j;
  },
};

function asBytes(p: unknown, path: string): Uint8Array {
  if (!(p instanceof Uint8Array)) fail(path, 'expected a byte string');
  return plainView(p);
}

/** Byte string of at most `max` bytes (or exactly `len` bytes when `exact`). */
export function bytes(max: number, exact = false): Codec<Uint8Array> {
  return {
    toPlain(v) {
      if (!(v instanceof Uint8Array)) throw new TypeError('expected Uint8Array');
      if (exact ? v.length !== max : v.length > max) throw new RangeError(`byte string of ${v.length} bytes, limit ${exact ? '=' : '≤'} ${max}`);
      return v;
    },
    fromPlain(p, path) {
      const b = asBytes(p, path);
      if (exact && b.length !== max) fail(path, `expected exactly ${max} bytes, got ${b.length}`);
      if (b.length > max) fail(path, `byte string too long (${b.length} > ${max})`);
      return b;
    },
    toJson: (v) => toHex(v),
    fromJson(j, path) {
      if (typeof j !== 'string') fail(path, 'expected 0x-hex bytes');
      const b = fromHex(j, path);
      if (exact && b.length !== max) fail(path, `expected exactly ${max} bytes, got ${b.length}`);
      if (b.length > max) fail(path, `byte string too long (${b.length} > ${max})`);
      return b;
    },
  };
}

/** Fixed-size byte strings used everywhere. */
export const bytes20 = bytes(20, true);
export const bytes32 = bytes(32, true);
export const bytes33 = bytes(33, true);
export const bytes64 = bytes(64, true);

/** UTF-8 string of at most `maxBytes` bytes, optionally matching a pattern. */
export function str(maxBytes: number, pattern?: RegExp): Codec<string> {
  return {
    toPlain(v) {
      if (typeof v !== 'string') throw new TypeError('expected string');
      if (Buffer.byteLength(v) > maxBytes) throw new RangeError(`string longer than ${maxBytes} bytes`);
      if (pattern && !pattern.test(v)) throw new RangeError(`string does not match ${pattern}`);
      return v;
    },
    fromPlain(p, path) {
      if (typeof p !== 'string') fail(path, 'expected a string');
      if (Buffer.byteLength(p) > maxBytes) fail(path, `string too long (limit ${maxBytes} bytes)`);
      if (pattern && !pattern.test(p)) fail(path, `string does not match ${pattern}`);
      return p;
    },
    toJson: (v) => v,
    fromJson(j, path) {
      return this.fromPlain(j, path);
    },
  };
}

/** Maximum size of an amount in bytes (2^256 - 1 at most). */
export const AMOUNT_MAX_BYTES = 32;

// Amounts of accounts and transfers are read and written several times per transfer: these paths
// skip the hex string and the Buffer (whose allocations also refilled Buffer's 8 KB pool) for the
// usual sizes. Same results as the hex paths (test/unit/lib/encoding.test.ts compares them).
const MAX_U128 = (1n << 128n) - 1n;
const u128 = new DataView(new ArrayBuffer(16));
const u128Bytes = new Uint8Array(u128.buffer);

/** Minimal big-endian bytes of 0 < v < 2^128. */
function u128ToBytes(v: bigint): Uint8Array {
  u128.setBigUint64(0, v >> 64n);
  u128.setBigUint64(8, BigInt.asUintN(64, v));
  let i = 0;
  while (u128Bytes[i] === 0) i++;
  return u128Bytes.slice(i);
}

/**
 * Big-endian unsigned integer of `len` ≤ 6 bytes at `at`, as a number (exact below 2^48). Not
 * lib/hex.ts readUintBE, which builds a bigint one byte at a time over the whole array.
 */
function smallUintAt(b: Uint8Array, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) n = n * 256 + b[i]!;
  return n;
}

/** bigint → minimal big-endian bytes (0n → empty). */
export function amountToBytes(v: bigint): Uint8Array {
  if (typeof v !== 'bigint' || v < 0n) throw new RangeError(`amount must be a non-negative bigint, got ${String(v)}`);
  if (v === 0n) return new Uint8Array(0);
  if (v <= MAX_U128) return u128ToBytes(v);
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const out = new Uint8Array(Buffer.from(hex, 'hex'));
  if (out.length > AMOUNT_MAX_BYTES) throw new RangeError('amount larger than 2^256-1');
  return out;
}

export function amountFromBytes(b: Uint8Array, path = 'amount'): bigint {
  if (b.length > AMOUNT_MAX_BYTES) fail(path, 'amount larger than 2^256-1');
  if (b.length > 0 && b[0] === 0) fail(path, 'amount has a leading zero byte (not minimal)');
  if (b.length === 0) return 0n;
  if (b.length <= 6) return BigInt(smallUintAt(b, 0, b.length)); // below 2^48: exact as a number
  if (b.length <= 12) return (BigInt(smallUintAt(b, 0, b.length - 6)) << 48n) | BigInt(smallUintAt(b, b.length - 6, 6));
  return BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
}

/** Non-negative bigint amount as minimal big-endian bytes. */
export const amount: Codec<bigint> = {
  toPlain: (v) => amountToBytes(v),
  fromPlain: (p, path) => amountFromBytes(asBytes(p, path), path),
  toJson: (v) => v.toString(10),
  fromJson(j, path) {
    if (typeof j === 'number' && Number.isSafeInteger(j) && j >= 0) return BigInt(j);
    if (typeof j !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(j)) fail(path, 'expected a decimal amount string');
    const v = BigInt(j);
    if (v >= 1n << 256n) fail(path, 'amount larger than 2^256-1');
    return v;
  },
};

/** `null` or a value. */
export function optional<T>(inner: Codec<T>): Codec<T | undefined> {
  return {
    toPlain: (v) => (v === undefined ? null : inner.toPlain(v)),
    fromPlain: (p, path) => (p === null ? undefined : inner.fromPlain(p, path)),
    toJson: (v) => (v === undefined ? null : inner.toJson(v)),
    fromJson: (j, path) => (j === null || j === undefined ? undefined : inner.fromJson(j, path)),
  };
}

/** Homogeneous list of at most `max` items. */
export function list<T>(inner: Codec<T>, max: number): Codec<T[]> {
  return {
    toPlain(v) {
      if (!Array.isArray(v)) throw new TypeError('expected array');
      if (v.length > max) throw new RangeError(`list of ${v.length} items, limit ${max}`);
      return v.map((x) => inner.toPlain(x));
    },
    fromPlain(p, path) {
      if (!Array.isArray(p)) fail(path, 'expected a list');
      if (p.length > max) fail(path, `list too long (${p.length} > ${max})`);
      return p.map((x, i) => inner.fromPlain(x, `${path}[${i}]`));
    },
    toJson: (v) => v.map((x) => inner.toJson(x)),
    fromJson(j, path) {
      if (!Array.isArray(j)) fail(path, 'expected a JSON array');
      if (j.length > max) fail(path, `list too long (${j.length} > ${max})`);
      return j.map((x, i) => inner.fromJson(x, `${path}[${i}]`));
    },
  };
}

type CodecsOf<T extends readonly unknown[]> = { [K in keyof T]: Codec<T[K]> };

/** Fixed-length tuple of typed fields. */
export function tuple<T extends readonly unknown[]>(...fields: CodecsOf<T>): Codec<T> {
  return {
    toPlain(v) {
      if (!Array.isArray(v) || v.length !== fields.length) throw new TypeError(`expected a ${fields.length}-tuple`);
      return fields.map((f, i) => (f as Codec<unknown>).toPlain(v[i]));
    },
    fromPlain(p, path) {
      if (!Array.isArray(p)) fail(path, 'expected a tuple (array)');
      if (p.length !== fields.length) fail(path, `expected ${fields.length} fields, got ${p.length}`);
      return fields.map((f, i) => (f as Codec<unknown>).fromPlain(p[i], `${path}.${i}`)) as unknown as T;
    },
    toJson: (v) => fields.map((f, i) => (f as Codec<unknown>).toJson(v[i])),
    fromJson(j, path) {
      if (!Array.isArray(j) || j.length !== fields.length) fail(path, `expected a JSON array of ${fields.length} items`);
      return fields.map((f, i) => (f as Codec<unknown>).fromJson(j[i], `${path}[${i}]`)) as unknown as T;
    },
  };
}

/**
 * A record type encoded as a tuple in the order of `keys`. Keeps call sites readable while the bytes
 * stay a tuple (never a map).
 */
export function struct<T extends object>(fields: { [K in keyof T]: Codec<T[K]> }, order: readonly (keyof T)[]): Codec<T> {
  const names = order as (keyof T & string)[];
  return {
    toPlain(v) {
      return names.map((k) => fields[k].toPlain(v[k]));
    },
    fromPlain(p, path) {
      if (!Array.isArray(p)) fail(path, 'expected a tuple (array)');
      if (p.length !== names.length) fail(path, `expected ${names.length} fields, got ${p.length}`);
      const out: Partial<T> = {};
      names.forEach((k, i) => {
        out[k] = fields[k].fromPlain(p[i], `${path}.${k}`);
      });
      return out as T;
    },
    toJson(v) {
      const out: Record<string, unknown> = {};
      for (const k of names) out[k] = fields[k].toJson(v[k]);
      return out;
    },
    fromJson(j, path) {
      if (typeof j !== 'object' || j === null || Array.isArray(j)) fail(path, 'expected a JSON object');
      const obj = j as Record<string, unknown>;
      for (const k of Object.keys(obj)) if (!names.includes(k as keyof T & string)) fail(path, `unknown field "${k}" (expected ${names.join(', ')})`);
      const out: Partial<T> = {};
      for (const k of names) out[k] = fields[k].fromJson(obj[k], `${path}.${k}`);
      return out as T;
    },
  };
}

/** Maps a codec of A onto type B (e.g. a tuple onto an object). */
export function mapCodec<A, B>(inner: Codec<A>, to: (b: B) => A, from: (a: A, path: string) => B): Codec<B> {
  return {
    toPlain: (v) => inner.toPlain(to(v)),
    fromPlain: (p, path) => from(inner.fromPlain(p, path), path),
    toJson: (v) => inner.toJson(to(v)),
    fromJson: (j, path) => from(inner.fromJson(j, path), path),
  };
}

/** Parses JSON text into a value of `codec`, with InvalidMessageError on bad JSON or schema mismatch. */
export function fromJsonText<T>(codec: Codec<T>, text: string, what = 'args'): T {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    fail(what, 'not valid JSON');
  }
  return codec.fromJson(j, what);
}

/** Encodes a value canonically. Throws RangeError/TypeError for a value outside its schema (a bug). */
export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  return plainView(packr.pack(codec.toPlain(value)));
}

/**
 * Decodes bytes that must be the canonical encoding of a value of `codec`: rejects truncated input,
 * trailing bytes, wrong types and any non-canonical form (re-encoding must give the same bytes).
 */
export function decode<T>(codec: Codec<T>, data: Uint8Array, what = 'value', maxBytes?: number): T {
  if (!(data instanceof Uint8Array)) throw new InvalidMessageError(ERR.ENCODING, `${what}: expected bytes`);
  if (maxBytes !== undefined && data.length > maxBytes) {
    throw new InvalidMessageError(ERR.TOO_LARGE, `${what}: ${data.length} bytes exceeds the limit of ${maxBytes}`);
  }
  const value = codec.fromPlain(unpack(data, what), what);
  let again: Uint8Array;
  try {
    again = encode(codec, value);
  } catch (err) {
    throw new InvalidMessageError(ERR.ENCODING, `${what}: value outside its schema (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!bytesEqual(again, data)) throw new InvalidMessageError(ERR.ENCODING, `${what}: non-canonical encoding`);
  return value;
}

/**
 * Decodes bytes that this node wrote itself with `encode` (state rows): the same value as `decode`
 * for canonical bytes, but without the re-encode check, which costs about as much as the decode.
 * The check exists so that one value has one encoding wherever bytes are hashed or signed and come
 * from someone else (txs, blocks, votes); a state row was produced by our own `encode` from a value
 * of the same schema and is committed to by the state root as written, so re-checking it proves
 * nothing new. Still refuses bytes that are not one msgpack value (garbage, truncation, trailing
 * bytes) or that do not fit the schema. Never use it for bytes from the network, a tx or a block.
 */
export function decodeTrusted<T>(codec: Codec<T>, data: Uint8Array, what = 'value'): T {
  return codec.fromPlain(unpack(data, what), what);
}

/** One msgpack value (as msgpackr decodes it); InvalidMessageError for garbage, truncation or trailing bytes. */
function unpack(data: Uint8Array, what: string): unknown {
  try {
    return packr.unpack(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch (err) {
    throw new InvalidMessageError(ERR.ENCODING, `${what}: not valid msgpack (${err instanceof Error ? err.message : String(err)})`);
  }
}

// Hand-written readers and writers of single canonical values, for the few hot rows and messages
// encoded directly (protocols/bank/codec.ts, state/txWire.ts, state/blockStore.ts): byte-equal to
// what `encode` writes, and each caller falls back to the codecs for anything else.

/** msgpack's minimal form of an unsigned integer below 2^32: what `encode` writes for such a u53. */
export function minimalUint(v: number): number[] {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** 32) throw new RangeError(`not an unsigned integer below 2^32: ${v}`);
  if (v < 0x80) return [v]; // positive fixint
  if (v < 0x100) return [0xcc, v];
  if (v < 0x10000) return [0xcd, v >>> 8, v & 0xff];
  return [0xce, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/**
 * Reads an unsigned integer written in msgpack's minimal form (minimalUint) at `at`, at most `max`;
 * undefined for any other form or a truncated one. Returns [value, offset after it].
 */
export function readMinimalUint(raw: Uint8Array, at: number, max: number): [number, number] | undefined {
  const tag = raw[at];
  if (tag === undefined) return undefined;
  let v: number;
  let next: number;
  if (tag < 0x80) [v, next] = [tag, at + 1];
  else if (tag === 0xcc && at + 1 < raw.length) [v, next] = [raw[at + 1]!, at + 2];
  else if (tag === 0xcd && at + 2 < raw.length) [v, next] = [raw[at + 1]! * 0x100 + raw[at + 2]!, at + 3];
  else if (tag === 0xce && at + 4 < raw.length) [v, next] = [raw[at + 1]! * 0x1000000 + raw[at + 2]! * 0x10000 + raw[at + 3]! * 0x100 + raw[at + 4]!, at + 5];
  else return undefined;
  // minimal form only: each wider tag starts where the narrower one ends
  const min = tag === 0xcc ? 0x80 : tag === 0xcd ? 0x100 : tag === 0xce ? 0x10000 : 0;
  if (v < min || v > max) return undefined;
  return [v, next];
}

/**
 * The offset after `count` msgpack values starting at `at`, for values of the kinds a block header
 * holds (positive ints, uint8–64, float64, fixstr/str8, bin8); undefined for any other kind or a
 * truncation. It only finds where the values end: the caller decodes them with their codec.
 */
export function skipScalars(raw: Uint8Array, at: number, count: number): number | undefined {
  let p = at;
  for (let i = 0; i < count; i++) {
    const t = raw[p];
    if (t === undefined) return undefined;
    if (t < 0x80) p += 1;
    else if (t >= 0xa0 && t <= 0xbf) p += 1 + (t - 0xa0);
    else if (t === 0xd9 || t === 0xc4) {
      const len = raw[p + 1];
      if (len === undefined) return undefined;
      p += 2 + len;
    } else if (t === 0xcc) p += 2;
    else if (t === 0xcd) p += 3;
    else if (t === 0xce) p += 5;
    else if (t === 0xcf || t === 0xcb) p += 9;
    else return undefined;
  }
  return p <= raw.length ? p : undefined;
}

/**
 * Reads a list of byte strings in exactly the form `encode(list(bytes(maxItemBytes), maxItems))`
 * writes — minimal array header, each item a minimal bin8/bin16/bin32 — starting at `at`. Returns the
 * items as views into `raw` (as the codec's decode does) and the offset after the list, or undefined
 * for any other form, a limit exceeded or a truncation: the caller then runs the codec, which
 * accepts or refuses with its own message. Saves the codec's msgpack parse and its canonical
 * re-encode on tx batches and blocks (a list of hundreds of txs, from the network).
 */
export function readBytesList(raw: Uint8Array, at: number, maxItems: number, maxItemBytes: number): [Uint8Array[], number] | undefined {
  const tag = raw[at];
  if (tag === undefined) return undefined;
  let n: number;
  let p: number;
  if (tag >= 0x90 && tag <= 0x9f) {
    n = tag - 0x90;
    p = at + 1;
  } else if (tag === 0xdc && at + 2 < raw.length) {
    n = raw[at + 1]! * 0x100 + raw[at + 2]!;
    if (n < 16) return undefined;
    p = at + 3;
  } else if (tag === 0xdd && at + 4 < raw.length) {
    n = raw[at + 1]! * 0x1000000 + raw[at + 2]! * 0x10000 + raw[at + 3]! * 0x100 + raw[at + 4]!;
    if (n < 0x10000) return undefined;
    p = at + 5;
  } else return undefined;
  if (n > maxItems) return undefined;
  const items: Uint8Array[] = new Array<Uint8Array>(n);
  const end = raw.length;
  for (let i = 0; i < n; i++) {
    const t = raw[p];
    let len: number;
    if (t === 0xc4 && p + 1 < end) {
      len = raw[p + 1]!;
      p += 2;
    } else if (t === 0xc5 && p + 2 < end) {
      len = raw[p + 1]! * 0x100 + raw[p + 2]!;
      if (len < 0x100) return undefined;
      p += 3;
    } else if (t === 0xc6 && p + 4 < end) {
      len = raw[p + 1]! * 0x1000000 + raw[p + 2]! * 0x10000 + raw[p + 3]! * 0x100 + raw[p + 4]!;
      if (len < 0x10000) return undefined;
      p += 5;
    } else return undefined;
    if (len > maxItemBytes || p + len > end) return undefined;
    items[i] = new Uint8Array(raw.buffer, raw.byteOffset + p, len); // a plain view, as asBytes gives
    p += len;
  }
  return [items, p];
}

/** Cuts `s` to at most `maxBytes` of UTF-8 without splitting a character (result strings are size-limited). */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}
