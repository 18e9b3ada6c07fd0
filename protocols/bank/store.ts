import { encode, decode, amount as amountCodec } from '../../lib/encoding.js';
import { ProtocolError } from '../../lib/errors.js';
import { toHex } from '../../lib/hex.js';
import type { ModuleReader, ModuleStore } from '../module.js';
import { encodeAccount, decodeAccountRow } from './codec.js';
import { accountKey, SUPPLY_KEY } from './keys.js';
import type { Account } from './types.js';
import { BANK_ERR } from './errors.js';

// Accounts written in this block are kept decoded by the overlay (`setValue`, encoded once at the
// block's end) and read back as the same frozen object (`getValue`). Accounts read from the committed
// store are decoded once per bytes object: the store's row cache hands out the same object until the
// row changes, so each is decoded once per commit, not per read (WeakMap: entries go with their
// bytes). A transfer reads the sender three times (admission check, fee, debit) and writes it twice.
// Accounts are shared, so they are frozen.
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

const AMOUNT_MAX = 2n ** 256n - 1n;

const NO_ACCOUNT: Account = Object.freeze({ balance: 0n, nonce: 0 });

export class BankReader {
  constructor(protected readonly r: ModuleReader) {}

  /** The account (frozen: it may be shared with other readers). */
  account(address: Uint8Array): Account {
    const key = accountKey(address);
    const written = this.r.getValue(key) as Account | undefined;
    if (written !== undefined) return written;
    const raw = this.r.get(key);
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
    // the row is encoded at the block's end: refuse what encodeAccount would refuse here, at the write
    if (a.balance < 0n || a.balance > AMOUNT_MAX) throw new RangeError(`account balance ${a.balance} outside 0 .. 2^256-1`);
    if (!Number.isSafeInteger(a.nonce) || a.nonce < 0) throw new RangeError(`account nonce ${a.nonce} is not a safe non-negative integer`);
    this.s.setValue(accountKey(address), Object.freeze({ balance: a.balance, nonce: a.nonce }), encodeAccount);
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
