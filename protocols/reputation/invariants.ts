// Reputation invariants, checked after every block in tests.
import { decode } from '../../lib/encoding.js';
import { toHex } from '../../lib/hex.js';
import { parseDeadlineKey, type ModuleReader, type ReaderAccess } from '../module.js';
import { PREFIXES, JOB } from './keys.js';
import { depositCodec, scoreCodec } from './codec.js';
import { ESCROW, type ReputationDeps } from './deps.js';

export function makeInvariants(deps: ReputationDeps) {
  return async function invariants(reader: ModuleReader, access: ReaderAccess): Promise<string[]> {
    const out: string[] = [];
    const bad = (m: string) => out.push(`reputation: ${m}`);
    const refunds = new Set<string>();
    for await (const [k] of reader.entries(PREFIXES.queue)) {
      const j = parseDeadlineKey(PREFIXES.queue, k);
      if (j.kind === JOB.DEPOSIT_REFUND) refunds.add(`${j.due}/${toHex(j.id)}`);
    }
    let deposits = 0n;
    for await (const [k, v] of reader.entries(PREFIXES.deposit)) {
      const d = decode(depositCodec, v, 'deposit');
      deposits += d.amount;
      if (!refunds.has(`${d.due}/${toHex(k.slice(1))}`)) bad(`deposit ${toHex(k.slice(1))} has no refund job at ${d.due}`);
    }
    const escrow = deps.bank.escrowBalance(access, ESCROW.deposits);
    if (escrow !== deposits) bad(`deposit escrow holds ${escrow}, pending deposits sum to ${deposits}`);
    for await (const [k, v] of reader.entries(PREFIXES.score)) {
      const s = decode(scoreCodec, v, 'score');
      if (s.pos > 0n && s.positives === 0) bad(`score ${toHex(k.slice(1))}: positive weight without positive events`);
    }
    return out;
  };
}
