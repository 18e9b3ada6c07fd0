// A minimal, strict DER reader and writer for the values of iotchain's own X.509 extensions
// (certificate.ts). Only the few universal types those values use: SEQUENCE, OCTET STRING,
// UTF8String, ENUMERATED (small non-negative values), OBJECT IDENTIFIER. The reader accepts DER
// only: definite minimal lengths, no trailing bytes, minimal ENUMERATED, minimal OID arcs.
// Everything else in a certificate is parsed by @peculiar/x509.
import { InvalidMessageError } from '../../lib/errors.js';

export const TAG = {
  ENUMERATED: 0x0a,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
} as const;

/** Code of a malformed extension value. */
export const DER_MALFORMED = 'CERT_DER_MALFORMED';

function bad(what: string): never {
  throw new InvalidMessageError(DER_MALFORMED, what);
}

function lengthBytes(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Uint8Array.of(0x80 | out.length, ...out);
}

export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const len = lengthBytes(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

export function derSequence(...children: Uint8Array[]): Uint8Array {
  return tlv(TAG.SEQUENCE, Buffer.concat(children));
}

export function derOctets(b: Uint8Array): Uint8Array {
  return tlv(TAG.OCTET_STRING, b);
}

export function derUtf8(s: string): Uint8Array {
  return tlv(TAG.UTF8_STRING, new TextEncoder().encode(s));
}

/** ENUMERATED with a value in 0..127 (one content byte). */
export function derEnum(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 127) throw new RangeError(`enumerated value ${v} out of 0..127`);
  return tlv(TAG.ENUMERATED, Uint8Array.of(v));
}

export function derOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map((a) => {
    if (!/^(0|[1-9][0-9]*)$/.test(a)) throw new RangeError(`bad OID ${oid}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) throw new RangeError(`bad OID ${oid}`);
  const out: number[] = [];
  const push = (v: bigint) => {
    const groups: number[] = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) groups.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...groups);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Uint8Array.from(out));
}

export interface DerNode {
  tag: number;
  content: Uint8Array;
}

/** Reads one TLV at `offset`; returns the node and the offset after it. */
function readTlv(b: Uint8Array, offset: number, what: string): { node: DerNode; next: number } {
  if (offset + 2 > b.length) bad(`${what}: truncated`);
  const tag = b[offset]!;
  if ((tag & 0x1f) === 0x1f) bad(`${what}: multi-byte tags are not used here`);
  let len = b[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) bad(`${what}: indefinite length is not DER`);
    if (n > 3) bad(`${what}: length too large`);
    if (p + n > b.length) bad(`${what}: truncated length`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    if (b[p] === 0 || len < 0x80) bad(`${what}: non-minimal length (not DER)`);
    p += n;
  }
  if (p + len > b.length) bad(`${what}: truncated value`);
  return { node: { tag, content: b.subarray(p, p + len) }, next: p + len };
}

/** Parses exactly one TLV covering all of `b`. */
export function derRead(b: Uint8Array, what: string): DerNode {
  const { node, next } = readTlv(b, 0, what);
  if (next !== b.length) bad(`${what}: trailing bytes`);
  return node;
}

/** The children of a SEQUENCE, which must cover its content exactly. */
export function derChildren(node: DerNode, what: string): DerNode[] {
  if (node.tag !== TAG.SEQUENCE) bad(`${what}: expected a SEQUENCE`);
  const out: DerNode[] = [];
  for (let p = 0; p < node.content.length; ) {
    const r = readTlv(node.content, p, what);
    out.push(r.node);
    p = r.next;
  }
  return out;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): Uint8Array {
  if (!node) return bad(`${what}: missing`);
  if (node.tag !== tag) bad(`${what}: wrong type (tag 0x${node.tag.toString(16)})`);
  return node.content;
}

export function readOctets(node: DerNode | undefined, what: string, exactLength?: number): Uint8Array {
  const c = expectTag(node, TAG.OCTET_STRING, what);
  if (exactLength !== undefined && c.length !== exactLength) bad(`${what}: expected ${exactLength} bytes, got ${c.length}`);
  return c.slice();
}

export function readUtf8(node: DerNode | undefined, what: string, maxBytes: number): string {
  const c = expectTag(node, TAG.UTF8_STRING, what);
  if (c.length > maxBytes) bad(`${what}: longer than ${maxBytes} bytes`);
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(c);
  } catch {
    return bad(`${what}: invalid UTF-8`);
  }
  return s;
}

export function readEnum(node: DerNode | undefined, what: string): number {
  const c = expectTag(node, TAG.ENUMERATED, what);
  if (c.length !== 1 || c[0]! > 127) bad(`${what}: expected a small non-negative ENUMERATED`);
  return c[0]!;
}

export function readOid(node: DerNode | undefined, what: string): string {
  const c = expectTag(node, TAG.OID, what);
  if (c.length === 0 || c.length > 64) bad(`${what}: bad OBJECT IDENTIFIER length`);
  const arcs: bigint[] = [];
  let v = 0n;
  let start = true;
  for (let i = 0; i < c.length; i++) {
    const byte = c[i]!;
    if (start && byte === 0x80) bad(`${what}: non-minimal OID arc`);
    v = (v << 7n) | BigInt(byte & 0x7f);
    start = false;
    if ((byte & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
      start = true;
    } else if (i === c.length - 1) bad(`${what}: truncated OID arc`);
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}
