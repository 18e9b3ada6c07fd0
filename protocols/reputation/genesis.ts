// Genesis section `modules.reputation` (optional): {notary?: "0x…", params?: {…}}. Strict.
import { InvalidMessageError } from '../../lib/errors.js';
import { parseAddress } from '../../crypto/keys.js';
import type { GenesisContext } from '../module.js';
import { ReputationStore } from './store.js';
import { REPUTATION_ERR } from './errors.js';
import { SCORE_CODEC_MAX } from './codec.js';
import type { ReputationParams } from './types.js';

const DAY = 86_400_000;

export const DEFAULT_REPUTATION_PARAMS: ReputationParams = {
  halfLifeMs: 30 * DAY,
  periodMs: DAY,
  maxScore: 10,
  voteFee: 10n,
  negativeDeposit: 1_000n,
  depositWindowMs: 7 * DAY,
  proofMaxAgeMs: DAY,
  proofMaxFutureMs: 60_000,
};

function bad(msg: string): never {
  throw new InvalidMessageError(REPUTATION_ERR.BAD_GENESIS, `genesis modules.reputation: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAX_MS = 100 * 365 * DAY;

export function parseReputationParams(raw: unknown): ReputationParams {
  if (raw === undefined) return { ...DEFAULT_REPUTATION_PARAMS };
  if (!isObject(raw)) bad('params must be an object');
  const p: ReputationParams = { ...DEFAULT_REPUTATION_PARAMS };
  const defaults = DEFAULT_REPUTATION_PARAMS as unknown as Record<string, unknown>;
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
  if (p.halfLifeMs === 0) bad('params.halfLifeMs must be positive');
  if (p.periodMs === 0) bad('params.periodMs must be positive');
  if (p.maxScore < 1 || p.maxScore > SCORE_CODEC_MAX) bad(`params.maxScore must be in 1..${SCORE_CODEC_MAX}`);
  return p;
}

export function genesis(ctx: GenesisContext, config: unknown): void {
  const cfg = config ?? {};
  if (!isObject(cfg)) bad('expected {notary?: address, params?: {…}}');
  for (const k of Object.keys(cfg)) if (k !== 'notary' && k !== 'params') bad(`unknown field ${k}`);
  const s = new ReputationStore(ctx.state);
  s.setParams(parseReputationParams(cfg.params));
  if (cfg.notary !== undefined) {
    try {
      s.setNotary(parseAddress(cfg.notary as string, 'notary'));
    } catch (e) {
      bad(e instanceof Error ? e.message : String(e));
    }
  }
}
