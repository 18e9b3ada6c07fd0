// Name and IP syntax (pure, shared by validateBasic and off-chain tools). Everything is ASCII and
// checked character by character: no Unicode normalization (its result could differ between
// runtimes), no parseInt/Number/parseFloat leniency (" 1", "1e2", "0x10", "1.0" are all refused).
import { InvalidMessageError } from '../../lib/errors.js';
import { IDENTITY_ERR } from './errors.js';

export const MAX_NAME_BYTES = 253;
export const MAX_LABEL_BYTES = 63;
/** "[" + 39-char IPv6 + "]:" + 5 digits fits in 64. */
export const MAX_IP_BYTES = 64;

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `name` is not a valid domain name, or undefined if it is. */
export function nameSyntaxError(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'name is empty';
  if (name.length > MAX_NAME_BYTES) return `name is longer than ${MAX_NAME_BYTES} characters`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f) return 'name must be ASCII (no Unicode; use punycode "xn--" labels)';
  }
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length === 0) return 'name has an empty label (leading, trailing or double dot)';
    if (label.length > MAX_LABEL_BYTES) return `label "${label.slice(0, 16)}…" is longer than ${MAX_LABEL_BYTES} characters`;
    if (!LABEL_RE.test(label)) return `label "${label}" must be lower-case letters, digits and inner hyphens`;
  }
  return undefined;
}

export function assertName(name: string): void {
  const why = nameSyntaxError(name);
  if (why) throw new InvalidMessageError(IDENTITY_ERR.NAME_SYNTAX, why);
}

export interface ParsedEndpoint {
  kind: 'ipv4' | 'ipv6';
  /** The address part (IPv6 without brackets). */
  host: string;
  port: number | undefined;
}

/** Decimal without sign or leading zero, at most `maxDigits` digits; undefined if not. */
function decimal(s: string, maxDigits: number): number | undefined {
  if (s.length === 0 || s.length > maxDigits) return undefined;
  if (s.length > 1 && s[0] === '0') return undefined;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v;
}

function isIpv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    const v = decimal(p, 3);
    if (v === undefined || v > 255) return false;
  }
  return true;
}

const HEX_GROUP_RE = /^[0-9a-f]{1,4}$/;

/** RFC 4291 §2.2 text forms, lower-case hex only, "::" at most once, optional trailing dotted IPv4. No zone ids. */
function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return false;
  const countGroups = (part: string, allowV4Tail: boolean): number | undefined => {
    if (part === '') return 0;
    const groups = part.split(':');
    let n = 0;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        if (!isIpv4(g)) return undefined;
        n += 2;
      } else if (HEX_GROUP_RE.test(g)) n += 1;
      else return undefined;
    }
    return n;
  };
  if (dbl === -1) return countGroups(s, true) === 8;
  const head = countGroups(s.slice(0, dbl), false);
  const tail = countGroups(s.slice(dbl + 2), true);
  return head !== undefined && tail !== undefined && head + tail <= 7;
}

/**
 * Parses "a.b.c.d", "a.b.c.d:port", an IPv6 address, or "[ipv6]:port". Ports are 1..65535 in
 * plain decimal. Returns undefined for anything else.
 */
export function parseEndpoint(ip: string): ParsedEndpoint | undefined {
  if (typeof ip !== 'string' || ip.length === 0 || ip.length > MAX_IP_BYTES) return undefined;
  const port = (s: string): number | undefined => {
    const v = decimal(s, 5);
    return v !== undefined && v >= 1 && v <= 65535 ? v : undefined;
  };
  if (ip[0] === '[') {
    const close = ip.indexOf(']');
    if (close === -1 || ip[close + 1] !== ':') return undefined;
    const host = ip.slice(1, close);
    const p = port(ip.slice(close + 2));
    return isIpv6(host) && p !== undefined ? { kind: 'ipv6', host, port: p } : undefined;
  }
  const colons = ip.split(':').length - 1;
  // an IPv6 address has at least two colons; "host:port" has exactly one
  if (colons >= 2) return isIpv6(ip) ? { kind: 'ipv6', host: ip, port: undefined } : undefined;
  const colon = ip.indexOf(':');
  if (colon === -1) return isIpv4(ip) ? { kind: 'ipv4', host: ip, port: undefined } : undefined;
  const host = ip.slice(0, colon);
  const p = port(ip.slice(colon + 1));
  return isIpv4(host) && p !== undefined ? { kind: 'ipv4', host, port: p } : undefined;
}

export function assertEndpoint(ip: string): void {
  if (!parseEndpoint(ip)) {
    throw new InvalidMessageError(
      IDENTITY_ERR.IP_SYNTAX,
      'ip must be an IPv4 address (a.b.c.d), an IPv6 address (lower-case hex), "a.b.c.d:port" or "[ipv6]:port" with a port in 1..65535',
    );
  }
}
