import { decode } from '../../lib/encoding.js';
import type { ModuleReader } from '../module.js';
import { accountCodec } from './codec.js';
import { ACCOUNT_PREFIX } from './keys.js';
import { BankReader } from './store.js';

/** Conservation: the sum of all balances (module escrows included) equals the supply. */
export async function invariants(reader: ModuleReader): Promise<string[]> {
  let sum = 0n;
  for await (const [, v] of reader.entries(ACCOUNT_PREFIX)) sum += decode(accountCodec, v, 'account').balance;
  const supply = new BankReader(reader).supply();
  return sum === supply ? [] : [`bank: balances sum to ${sum}, supply is ${supply}`];
}
