// Reputation queries. Point reads only (provable), including the identity reads made through deps.
import { struct, bytes20, bytes32, str, optional } from '../../lib/encoding.js';
import { InvalidMessageError } from '../../lib/errors.js';
import { toHex } from '../../lib/hex.js';
import { defineQuery, type AnyQuery } from '../module.js';
import { ReputationReader } from './store.js';
import { REPUTATION_ERR } from './errors.js';
import { MAX_NAME_BYTES } from './codec.js';
import { markId } from './keys.js';
import { decayedTo, ratioPpm, formatFixed } from './score.js';
import { periodOf } from './votes.js';
import type { ReputationDeps } from './deps.js';

export function makeQueries(deps: ReputationDeps): Record<string, AnyQuery> {
  return {
    /** {} → parameters and notary. */
    params: defineQuery({
      args: struct<Record<string, never>>({}, []),
      provable: true,
      run(ctx) {
        const r = new ReputationReader(ctx.state);
        const p = r.params();
        const notary = r.notary();
        return {
          halfLifeMs: p.halfLifeMs,
          periodMs: p.periodMs,
          maxScore: p.maxScore,
          voteFee: p.voteFee.toString(),
          negativeDeposit: p.negativeDeposit.toString(),
          depositWindowMs: p.depositWindowMs,
          proofMaxAgeMs: p.proofMaxAgeMs,
          proofMaxFutureMs: p.proofMaxFutureMs,
          notary: notary ? toHex(notary) : null,
        };
      },
    }),

    /**
     * {name} or {addr} (offline, or any online key of the identity) → the identity's score at the
     * committed block time: decayed positive and negative sums and score = P − N (fixed point,
     * 18 decimals, raw and formatted), ratioPpm, event counts.
     */
    getReputation: defineQuery({
      args: struct<{ name: string | undefined; addr: Uint8Array | undefined }>({ name: optional(str(MAX_NAME_BYTES)), addr: optional(bytes20) }, ['name', 'addr']),
      provable: true,
      run(ctx, { name, addr }) {
        if ((name === undefined) === (addr === undefined)) throw new InvalidMessageError(REPUTATION_ERR.BAD_QUERY, 'give exactly one of name or addr');
        let identity: Uint8Array | undefined;
        let nameState: string | null = null;
        if (name !== undefined) {
          const d = deps.identity.domain(ctx.access, name, ctx.time);
          nameState = d.state;
          identity = d.state === 'unregistered' || d.state === 'free' ? undefined : d.owner;
        } else identity = deps.identity.identityOf(ctx.access, addr!);
        if (!identity) return { found: false, name: name ?? null, nameState };
        const r = new ReputationReader(ctx.state);
        const p = r.params();
        const s = decayedTo(r.score(identity), ctx.time, p.halfLifeMs);
        const score = s.pos - s.neg;
        return {
          found: true,
          name: name ?? null,
          nameState,
          identity: toHex(identity),
          positive: s.pos.toString(),
          negative: s.neg.toString(),
          score: score.toString(),
          scoreDecimal: formatFixed(score),
          ratioPpm: ratioPpm(s.pos, s.neg),
          positives: s.positives,
          negatives: s.negatives,
          time: ctx.time,
        };
      },
    }),

    /** {voter, target} (offline identities) → whether the voter already voted on the target in the current period. */
    hasVoted: defineQuery({
      args: struct<{ voter: Uint8Array; target: Uint8Array }>({ voter: bytes20, target: bytes20 }, ['voter', 'target']),
      provable: true,
      run(ctx, { voter, target }) {
        const r = new ReputationReader(ctx.state);
        const period = periodOf(ctx.time, r.params().periodMs);
        return { period, voted: r.hasMark(markId(voter, target, period)) };
      },
    }),

    /** {voteId} → a pending negative-vote deposit. */
    deposit: defineQuery({
      args: struct<{ voteId: Uint8Array }>({ voteId: bytes32 }, ['voteId']),
      provable: true,
      run(ctx, { voteId }) {
        const d = new ReputationReader(ctx.state).deposit(voteId);
        if (!d) return { found: false };
        return { found: true, voter: toHex(d.voter), target: toHex(d.target), name: d.name, amount: d.amount.toString(), time: d.time, due: d.due };
      },
    }),
  };
}
