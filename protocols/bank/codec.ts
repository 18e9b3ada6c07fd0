import { struct, bytes20, amount, u53, type Codec } from '../../lib/encoding.js';
import { InvalidMessageError } from '../../lib/errors.js';
import type { Account, TransferArgs } from './types.js';
import { BANK_ERR } from './errors.js';

export const accountCodec: Codec<Account> = struct<Account>({ balance: amount, nonce: u53 }, ['balance', 'nonce']);
export const transferArgsCodec: Codec<TransferArgs> = struct<TransferArgs>({ to: bytes20, amount }, ['to', 'amount']);

export function validateTransfer(a: TransferArgs): void {
  if (a.amount === 0n) throw new InvalidMessageError(BANK_ERR.ZERO_AMOUNT, 'transfer amount must be positive');
}
