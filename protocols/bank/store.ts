import { encode, decode, amount as amountCodec } from '../../lib/encoding.js';
import { ProtocolError } from '../../lib/errors.js';
import { toHex } from '../../lib/hex.js';
import type { ModuleReader, ModuleStore } from '../module.js';
import { accountCodec } from './codec.js';
import { accountKey, SUPPLY_KEY } from './keys.js';
import type { Account } from './types.js';
import { BANK_ERR } from './errors.js';

export class BankReader {
  constructor(protected readonly r: ModuleReader) {}

  account(address: Uint8Array): Account {
    const raw = this.r.get(accountKey(address));
    return raw ? decode(accountCodec, raw, 'bank account') : { balance: 0n, nonce: 0 };
  }

  balance(address: Uint8Array): bigint {
    return this.account(address).balance;
  }

  supply(): bigint {
    const raw = this.r.get(SUPPLY_KEY);
    return raw ? decode(amountCodec, raw, 'bank supply') : 0n;
  }
}

export class BankStore extends BankReader {
  constructor(private readonly s: ModuleStore) {
    super(s);
  }

  setAccount(address: Uint8Array, a: Account): void {
    if (a.balance === 0n && a.nonce === 0) this.s.delete(accountKey(address));
    else this.s.set(accountKey(address), encode(accountCodec, a));
  }

  setSupply(v: bigint): void {
    this.s.set(SUPPLY_KEY, encode(amountCodec, v));
  }

  credit(address: Uint8Array, amount: bigint): void {
    const a = this.account(address);
    this.setAccount(address, { ...a, balance: a.balance + amount });
  }

  debit(address: Uint8Array, amount: bigint, code: string = BANK_ERR.INSUFFICIENT_FUNDS): void {
    const a = this.account(address);
    if (a.balance < amount) {
      throw new ProtocolError(code, `insufficient funds: ${toHex(address)} has ${a.balance}, needs ${amount}`);
    }
    this.setAccount(address, { ...a, balance: a.balance - amount });
  }

  move(from: Uint8Array, to: Uint8Array, amount: bigint, code?: string): void {
    this.debit(from, amount, code);
    this.credit(to, amount);
  }
}
