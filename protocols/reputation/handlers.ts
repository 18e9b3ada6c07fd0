// Reputation transaction handlers (SPEC §5.2 "voteDomain", §5.3).
import { ProtocolError } from '../../lib/errors.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import type { Handler } from '../module.js';
import { ReputationStore } from './store.js';
import { REPUTATION_ERR } from './errors.js';
import { JOB } from './keys.js';
import { ONE } from './decay.js';
import { removeNegative } from './score.js';
import { recordVote } from './votes.js';
import { verifySessionProof, sessionProofDigest } from './sessionProof.js';
import { ESCROW, asReader, type ReputationDeps } from './deps.js';
import type { ReputationMsgs } from './types.js';

type Handlers = { [K in keyof ReputationMsgs]: Handler<ReputationMsgs[K]> };

function fail(code: string, message: string): never {
  throw new ProtocolError(code, message);
}

export function makeHandlers(deps: ReputationDeps): Handlers {
  const { bank, identity } = deps;
  return {
    /**
     * Signed by the voter's online key (identity = its offline address). A positive vote cites the
     * gateway's session proof, checked here against the name owner's current online key; a
     * negative one escrows a deposit that the notary may forfeit within the window.
     */
    voteDomain(ctx, a) {
      const s = new ReputationStore(ctx.state);
      const p = s.params();
      const now = ctx.block.time;
      const voter = ctx.identity;
      const reader = asReader(ctx.access);
      const d = identity.domain(reader, a.name, now);
      if (d.state !== 'active' || !d.owner) fail(REPUTATION_ERR.NAME_UNUSABLE, `name ${a.name} does not resolve (${d.state})`);
      const target = d.owner;
      let interaction: Uint8Array;
      if (a.score > 0) {
        const proof = a.proof;
        if (!proof) fail(REPUTATION_ERR.PROOF_REQUIRED, 'a positive vote must carry the gateway’s session proof');
        for (const [what, t] of [['clientTime', proof.clientTime], ['serverTime', proof.serverTime]] as const) {
          if (t > now + p.proofMaxFutureMs) fail(REPUTATION_ERR.PROOF_STALE, `proof ${what} ${t} is ahead of the block time ${now}`);
          if (now - t > p.proofMaxAgeMs) fail(REPUTATION_ERR.PROOF_STALE, `proof ${what} is ${now - t} ms old (limit ${p.proofMaxAgeMs})`);
        }
        const key = identity.activeKey(reader, target);
        if (!key) fail(REPUTATION_ERR.NO_GATEWAY_KEY, `the owner of ${a.name} has no active online key`);
        if (!verifySessionProof(key.keyType, key.pub, ctx.chainId, a.name, voter, proof)) {
          fail(REPUTATION_ERR.BAD_PROOF, `the proof is not ${toHex(key.online)}’s signature over this chain, name, voter (${toHex(voter)}) and session`);
        }
        interaction = sessionProofDigest(ctx.chainId, a.name, voter, proof);
        if (s.proofUsed(interaction)) fail(REPUTATION_ERR.PROOF_REUSED, 'this session proof was already used for a vote');
        s.setProofUsed(interaction, true);
        s.enqueue(Math.max(proof.clientTime, proof.serverTime) + p.proofMaxAgeMs + 1, JOB.PROOF_EXPIRY, interaction);
      } else {
        if (a.proof) fail(REPUTATION_ERR.PROOF_NOT_ALLOWED, 'a negative vote carries a deposit, not a proof');
        interaction = ctx.txId;
        const due = now + p.depositWindowMs;
        if (p.negativeDeposit > 0n) bank.escrowDeposit(ctx.access, ESCROW.deposits, ctx.sender, p.negativeDeposit);
        s.setDeposit(ctx.txId, { voter, target, name: a.name, amount: p.negativeDeposit, weight: BigInt(-a.score) * ONE, time: now, due });
        s.enqueue(due, JOB.DEPOSIT_REFUND, ctx.txId);
      }
      recordVote(s, bank, ctx.access, p, { voter, target, score: a.score, interaction, payer: ctx.sender, time: now }, ctx.emit);
    },

    /**
     * The notary (its offline address, or its current online key) rules a negative vote false: the
     * deposit goes to the wronged target and the vote's weight is taken back.
     */
    forfeitDeposit(ctx, { voteId }) {
      const s = new ReputationStore(ctx.state);
      const p = s.params();
      const notary = s.notary();
      if (!notary || !bytesEqual(notary, ctx.identity)) fail(REPUTATION_ERR.NOT_NOTARY, 'only the notary set in genesis may forfeit a deposit');
      const dep = s.deposit(voteId);
      if (!dep) fail(REPUTATION_ERR.NO_DEPOSIT, `no pending deposit for vote ${toHex(voteId)} (unknown, already refunded or forfeited)`);
      const now = ctx.block.time;
      if (dep.amount > 0n) bank.escrowRelease(ctx.access, ESCROW.deposits, dep.target, dep.amount);
      s.setScore(dep.target, removeNegative(s.score(dep.target), now, p.halfLifeMs, dep.weight, dep.time));
      s.setDeposit(voteId, undefined);
      s.dequeue(dep.due, JOB.DEPOSIT_REFUND, voteId);
      ctx.emit('depositForfeited', { voteId, voter: dep.voter, target: dep.target, amount: dep.amount });
    },
  };
}
