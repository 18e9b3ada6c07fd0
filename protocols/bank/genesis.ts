import { InvalidMessageError } from '../../lib/errors.js';
import { parseAddress } from '../../crypto/keys.js';
import { toHex } from '../../lib/hex.js';
import type { GenesisContext } from '../module.js';
import { BankStore } from './store.js';
import { BANK_ERR } from './errors.js';

function bad(msg: string): never {
  throw new InvalidMessageError(BANK_ERR.BAD_GENESIS, `genesis modules.bank: ${msg}`);
}

export function genesis(ctx: GenesisContext, config: unknown): void {
  if (config === undefined) return;
  if (typeof config !== 'object' || config === null || !Array.isArray((config as { balances?: unknown }).balances)) bad('expected {balances: [{address, amount}]}');
  const s = new BankStore(ctx.state);
  let supply = 0n;
  const seen = new Set<string>();
  for (const [i, e] of ((config as { balances: unknown[] }).balances).entries()) {
    const entry = e as { address?: unknown; amount?: unknown };
    if (typeof entry?.address !== 'string' || typeof entry.amount !== 'string' || !/^(0|[1-9][0-9]*)$/.test(entry.amount)) {
      bad(`balances[${i}] needs an address and a decimal amount string`);
    }
    const addr = parseAddress(entry.address, `balances[${i}].address`);
    if (seen.has(toHex(addr))) bad(`balances[${i}]: duplicate address ${entry.address}`);
    seen.add(toHex(addr));
    const amt = BigInt(entry.amount);
    s.credit(addr, amt);
    supply += amt;
  }
  s.setSupply(supply);
}
