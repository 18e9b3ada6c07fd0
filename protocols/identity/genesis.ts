// Genesis section `modules.identity` (optional): {cas?: ["0x…"], params?: {…}}. Parsed strictly:
// unknown fields, bad addresses and out-of-range numbers are refused with a clear message.
import { InvalidMessageError } from '../../lib/errors.js';
import { parseAddress } from '../../crypto/keys.js';
import { toHex } from '../../lib/hex.js';
import type { GenesisContext } from '../module.js';
import { IdentityStore } from './store.js';
import { IDENTITY_ERR } from './errors.js';
import type { IdentityParams } from './types.js';

const DAY = 86_400_000;

export const DEFAULT_IDENTITY_PARAMS: IdentityParams = {
  minCommitAgeMs: 60_000,
  maxCommitAgeMs: DAY,
  namePeriodMs: 365 * DAY,
  nameFeePerPeriod: 1_000n,
  maxPeriods: 10,
  nameGraceMs: 30 * DAY,
  minBet: 1n,
  unbondingMs: 7 * DAY,
  incentivePeriodMs: 30 * DAY,
  closePenaltyPoints: 10,
  closePenaltyPerAmount: 1_000n,
  trustUnit: 1_000n,
};

function bad(msg: string): never {
  throw new InvalidMessageError(IDENTITY_ERR.BAD_GENESIS, `genesis modules.identity: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAX_MS = 100 * 365 * DAY;

/** Parses the `params` object over the defaults. */
export function parseIdentityParams(raw: unknown): IdentityParams {
  if (raw === undefined) return { ...DEFAULT_IDENTITY_PARAMS };
  if (!isObject(raw)) bad('params must be an object');
  const p: IdentityParams = { ...DEFAULT_IDENTITY_PARAMS };
  const defaults = DEFAULT_IDENTITY_PARAMS as unknown as Record<string, unknown>;
  const out = p as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in defaults)) bad(`unknown field params.${k} (known: ${Object.keys(defaults).join(', ')})`);
    if (typeof defaults[k] === 'bigint') {
      if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(v)) bad(`params.${k} must be a decimal amount string`);
      out[k] = BigInt(v);
    } else {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_MS) bad(`params.${k} must be an integer in 0..${MAX_MS}`);
      out[k] = v;
    }
  }
  if (p.maxCommitAgeMs < p.minCommitAgeMs) bad('params.maxCommitAgeMs must be ≥ minCommitAgeMs');
  if (p.namePeriodMs === 0) bad('params.namePeriodMs must be positive');
  if (p.maxPeriods < 1 || p.maxPeriods > 255) bad('params.maxPeriods must be in 1..255');
  if (p.minBet === 0n) bad('params.minBet must be positive');
  if (p.incentivePeriodMs === 0) bad('params.incentivePeriodMs must be positive');
  if (p.closePenaltyPerAmount === 0n) bad('params.closePenaltyPerAmount must be positive');
  if (p.trustUnit === 0n) bad('params.trustUnit must be positive');
  return p;
}

export function genesis(ctx: GenesisContext, config: unknown): void {
  const cfg = config ?? {};
  if (!isObject(cfg)) bad('expected {cas?: [address], params?: {…}}');
  for (const k of Object.keys(cfg)) if (k !== 'cas' && k !== 'params') bad(`unknown field ${k}`);
  const s = new IdentityStore(ctx.state);
  s.setParams(parseIdentityParams(cfg.params));
  const cas = cfg.cas ?? [];
  if (!Array.isArray(cas)) bad('cas must be a list of addresses');
  const seen = new Set<string>();
  for (const [i, a] of cas.entries()) {
    let addr: Uint8Array;
    try {
      addr = parseAddress(a as string, `cas[${i}]`);
    } catch (e) {
      return bad(e instanceof Error ? e.message : String(e));
    }
    if (seen.has(toHex(addr))) bad(`cas[${i}]: duplicate address`);
    seen.add(toHex(addr));
    s.setCa(addr, { since: 0 });
  }
}
