// Strict validation of by-name JSON-RPC params. Every failure is an InvalidParamsError (→ -32602)
// whose message names the param. Values are never echoed back: they are untrusted.
import { IotchainError } from '../lib/errors.js';
import { fromHex } from '../lib/hex.js';
import { parseAddress } from '../crypto/keys.js';
import { InvalidParamsError } from './errors.js';

export type Params = Readonly<Record<string, unknown>>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The params member as a by-name object (absent = {}), rejecting any name not in `allowed`. */
export function readParams(raw: unknown, allowed: readonly string[]): Params {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) throw new InvalidParamsError('params', 'invalid params: must be an object of named params');
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      const shown = key.length > 32 ? key.slice(0, 32) + '…' : key;
      throw new InvalidParamsError(key, `unknown param: ${JSON.stringify(shown)} (expected ${allowed.length ? allowed.join(', ') : 'none'})`);
    }
  }
  return raw;
}

function required(p: Params, name: string): unknown {
  const v = p[name];
  if (v === undefined) throw new InvalidParamsError(name, `missing param: ${name}`);
  return v;
}

function invalid(name: string, problem: string): InvalidParamsError {
  return new InvalidParamsError(name, `invalid param: ${name} ${problem}`);
}

export function integerParam(p: Params, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = required(p, name);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalid(name, max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer in [${min}, ${max}]`);
  }
  return v;
}

export function optionalBooleanParam(p: Params, name: string, dflt: boolean): boolean {
  const v = p[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw invalid(name, 'must be a boolean');
  return v;
}

export function stringParam(p: Params, name: string, re: RegExp, expected: string): string {
  const v = required(p, name);
  if (typeof v !== 'string' || !re.test(v)) throw invalid(name, `must be ${expected}`);
  return v;
}

export function optionalObjectParam(p: Params, name: string): Record<string, unknown> {
  const v = p[name];
  if (v === undefined) return {};
  if (!isPlainObject(v)) throw invalid(name, 'must be a JSON object');
  return v;
}

/** Non-empty 0x-hex of at most maxBytes bytes; the length is checked before decoding. */
export function bytesParam(p: Params, name: string, maxBytes: number): Uint8Array {
  const v = required(p, name);
  if (typeof v !== 'string') throw invalid(name, 'must be a 0x-hex string');
  if (v.length > 2 + 2 * maxBytes) throw invalid(name, `exceeds ${maxBytes} bytes`);
  const bytes = decodeHex(name, v);
  if (bytes.length === 0) throw invalid(name, 'must not be empty');
  return bytes;
}

/** Exactly `length` bytes of 0x-hex (e.g. a 32-byte hash). */
export function fixedBytesParam(p: Params, name: string, length: number): Uint8Array {
  const v = required(p, name);
  if (typeof v !== 'string' || v.length !== 2 + 2 * length) throw invalid(name, `must be 0x followed by ${2 * length} hex digits (${length} bytes)`);
  return decodeHex(name, v);
}

/** A 20-byte address: all lower, all upper, or EIP-55 mixed case with a valid checksum. */
export function addressParam(p: Params, name: string): Uint8Array {
  const v = required(p, name);
  if (typeof v !== 'string') throw invalid(name, 'must be a 0x address string');
  return rethrowAsParam(name, () => parseAddress(v, name));
}

function decodeHex(name: string, v: string): Uint8Array {
  return rethrowAsParam(name, () => fromHex(v, name));
}

function rethrowAsParam<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    // lib's messages already start with the param name ("tx must be 0x-prefixed hex …").
    if (err instanceof IotchainError) throw new InvalidParamsError(name, `invalid param: ${err.message}`);
    throw err;
  }
}
