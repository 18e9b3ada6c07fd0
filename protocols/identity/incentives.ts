// Incentive accounting for vouchers (pure, integer only). See README "Incentives" for the formulas.
//
// An identity's incentive pool is streamed linearly to its vouchers until `streamEnd`; what is
// released is shared pro rata to stake through an accumulator `acc` (reward per unit of stake,
// scaled by ACC_SCALE), so no handler ever iterates over vouchers. Each vouch remembers the `acc` of
// its last settlement; its pending reward is stake × (acc − snapshot) / ACC_SCALE, rounded down.
// Rounding dust never leaves the target's `held` balance: when the last voucher leaves, whatever is
// held and no longer owed to anyone goes back into the pool (or, after a close, to the owner).
import type { TargetStake, Vouch } from './types.js';

export const ACC_SCALE = 10n ** 36n;

/**
 * Releases the part of the pool due by `now` into `acc`. Linear: from the last accrual L to the end
 * E, the pool R is released at R / (E − L) per ms, i.e. released = R × (now − L) / (E − L) (floor),
 * or all of R once now ≥ E. While nobody stakes (or the pool is empty) nothing is released and the
 * stream's end moves forward by the idle time, so the incentive waits for vouchers. A closed target
 * releases nothing more.
 */
export function accrue(t: TargetStake, now: number, closed: boolean): TargetStake {
  if (now <= t.lastAccrual) return t;
  const dt = now - t.lastAccrual;
  if (closed || t.pool === 0n) return { ...t, lastAccrual: now };
  if (t.totalStake === 0n) return { ...t, streamEnd: t.streamEnd > t.lastAccrual ? t.streamEnd + dt : t.streamEnd, lastAccrual: now };
  const span = t.streamEnd - t.lastAccrual;
  const released = span <= dt ? t.pool : (t.pool * BigInt(dt)) / BigInt(span);
  return { ...t, pool: t.pool - released, acc: t.acc + (released * ACC_SCALE) / t.totalStake, lastAccrual: now };
}

/** Reward owed to a vouch at the target's current accumulator (floor). */
export function pendingReward(v: Vouch, t: TargetStake): bigint {
  return (v.stake * (t.acc - v.accSnapshot)) / ACC_SCALE;
}

/** Adds an incentive: the remaining pool plus `reward` is streamed over a fresh period from `now`. */
export function addToPool(t: TargetStake, reward: bigint, now: number, periodMs: number): TargetStake {
  return { ...t, pool: t.pool + reward, held: t.held + reward, streamEnd: now + periodMs, lastAccrual: now };
}

/**
 * Once nobody stakes any more, nothing held is owed: the dust (held − pool) returns to the pool, to
 * be streamed to the next vouchers. Returns the target unchanged while someone still stakes.
 */
export function foldDust(t: TargetStake): TargetStake {
  return t.totalStake === 0n && t.vouchers === 0 ? { ...t, pool: t.held } : t;
}

/** Trust level: the bit length of ⌊totalStake / trustUnit⌋ (0 below one unit, +1 per doubling). */
export function trustLevel(totalStake: bigint, trustUnit: bigint): number {
  let q = trustUnit > 0n ? totalStake / trustUnit : 0n;
  let n = 0;
  while (q > 0n) {
    q >>= 1n;
    n++;
  }
  return n;
}
