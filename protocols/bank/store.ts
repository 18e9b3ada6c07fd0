import { encode, decode, amount as amountCodec } from '../../lib/encoding.js';
import { ProtocolError } from '../../lib/errors.js';
import { toHex } from '../../lib/hex.js';
import type { ModuleReader, ModuleStore } from '../module.js';
import { encodeAccount, decodeAccountRow } from './codec.js';
import { accountKey, SUPPLY_KEY } from './keys.js';
import type { Account } from './types.js';
import { BANK_ERR } from './errors.js';

// Decoded accounts by the bytes object they were read from or written as. State values are never
// mutated in place (the overlay keeps a copy on `set`; `setOwned` gets fresh `encodeAccount` output that
// nobody else holds), so one bytes object always stands for one account, and a checkpoint revert,
// which restores the earlier bytes object, finds that object's entry still right. A transfer reads
// the sender three times (admission check, fee, debit) and writes it twice: with this, only reads
// from the committed store decode. Entries go with their bytes (WeakMap). Accounts are shared, so
// they are frozen.
const decoded = new WeakMap<Uint8Array, Account>();

function decodeAccount(raw: Uint8Array): Account {
  let a = decoded.get(raw);
  if (a === undefined) {
    // a state row: written only by setAccount, so the canonical re-check is skipped (lib/encoding.ts decodeTrusted)
    a = Object.freeze(decodeAccountRow(raw));
    decoded.set(raw, a);
  }
  return a;
}

const NO_ACCOUNT: Account = Object.freeze({ balance: 0n, nonce: 0 });

export class BankReader {
  constructor(protected readonly r: ModuleReader) {}

  /** The account (frozen: it may be shared with other readers). */
  account(address: Uint8Array): Account {
    const raw = this.r.get(accountKey(address));
    return raw ? decodeAccount(raw) : NO_ACCOUNT;
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
    if (a.balance === 0n && a.nonce === 0) return this.s.delete(accountKey(address));
    const raw = encodeAccount(a);
    decoded.set(raw, Object.freeze({ balance: a.balance, nonce: a.nonce }));
    this.s.setOwned(accountKey(address), raw);
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
