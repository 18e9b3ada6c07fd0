// Validator-set arithmetic and the timeout policy.
import type { PbftParams, ValidatorIndex } from './types.js';

export const DEFAULT_TIMEOUT_BASE_MS = 1_000;
export const DEFAULT_TIMEOUT_MAX_EXPONENT = 5;
export const DEFAULT_TIMEOUT_MAX_MS = 30_000;

/** Defaults for a validator set of `n` where this validator is `self`; any field can be overridden. */
export function defaultParams(n: number, self: ValidatorIndex, overrides: Partial<PbftParams> = {}): PbftParams {
  const params: PbftParams = {
    n,
    self,
    timeoutBaseMs: DEFAULT_TIMEOUT_BASE_MS,
    timeoutMaxExponent: DEFAULT_TIMEOUT_MAX_EXPONENT,
    timeoutMaxMs: DEFAULT_TIMEOUT_MAX_MS,
    viewWindow: 16,
    heightWindow: 2,
    maxBufferedPerSender: 64,
    maxPayloadBytes: 8 * 1024 * 1024,
    hashBytes: 32,
    ...overrides,
  };
  checkParams(params);
  return params;
}

/** Throws RangeError on parameters the core cannot run with (a configuration error, not a message). */
export function checkParams(p: PbftParams): void {
  const pos = (x: number): boolean => Number.isSafeInteger(x) && x >= 1;
  if (!pos(p.n)) throw new RangeError('n must be an integer ≥ 1');
  if (!Number.isSafeInteger(p.self) || p.self < 0 || p.self >= p.n) throw new RangeError('self must be an index in 0..n-1');
  if (!pos(p.timeoutBaseMs) || !pos(p.timeoutMaxMs) || p.timeoutMaxMs < p.timeoutBaseMs) {
    throw new RangeError('timeouts must be integers with 1 ≤ timeoutBaseMs ≤ timeoutMaxMs');
  }
  if (!Number.isSafeInteger(p.timeoutMaxExponent) || p.timeoutMaxExponent < 0 || p.timeoutMaxExponent > 30) {
    throw new RangeError('timeoutMaxExponent must be in 0..30');
  }
  if (!pos(p.viewWindow) || !pos(p.heightWindow) || !pos(p.maxBufferedPerSender) || !pos(p.maxPayloadBytes) || !pos(p.hashBytes)) {
    throw new RangeError('windows, buffer and size limits must be integers ≥ 1');
  }
}

/** Byzantine validators tolerated: f = floor((n-1)/3). */
export function faultTolerance(n: number): number {
  return Math.floor((n - 1) / 3);
}

/**
 * Votes needed for a prepared or commit certificate and for a NewView: the smallest q with
 * 2q - n ≥ f + 1 (any two quorums share an honest validator), i.e. floor((n+f)/2) + 1.
 * For n = 3f+1 this is the usual 2f+1; for n = 1 it is 1. (2f+1 alone would be unsafe for
 * n = 3f+2 or 3f+3, e.g. n = 5: two quorums of 3 could share only the faulty validator.)
 */
export function quorum(n: number): number {
  return Math.floor((n + faultTolerance(n)) / 2) + 1;
}

/** Votes that include at least one honest validator: f + 1. */
export function weakQuorum(n: number): number {
  return faultTolerance(n) + 1;
}

/** The primary of (height, view) rotates with both: validators[(height + view) mod n]. */
export function primaryOf(height: number, view: number, n: number): ValidatorIndex {
  return (height + view) % n;
}

/**
 * Round timeout for `view`: timeoutBaseMs * 2^min(view, timeoutMaxExponent), at most timeoutMaxMs.
 * Views restart at 0 on every new height, so the timeout resets to the base on progress.
 */
export function timeoutFor(p: PbftParams, view: number): number {
  return Math.min(p.timeoutMaxMs, p.timeoutBaseMs * 2 ** Math.min(view, p.timeoutMaxExponent));
}
