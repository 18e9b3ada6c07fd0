import t from 'tap';
import { encode, decode, decodeTrusted } from '../../../../lib/encoding.js';
import { accountCodec, transferArgsCodec, encodeAccount, decodeAccountRow, decodeTransferArgs } from '../../../../protocols/bank/codec.js';
import { BankStore } from '../../../../protocols/bank/store.js';
import { scopedStore } from '../../../../protocols/module.js';
import { Overlay } from '../../../../state/overlay.js';
import { MemoryKvStore } from '../../../../state/kvStore.js';
import type { Account, TransferArgs } from '../../../../protocols/bank/types.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// boundaries of every bin8 length and every msgpack uint form, then random values
const balances = [0n, 1n, 0xffn, 0x100n, 10n ** 20n, (1n << 64n) - 1n, 1n << 64n, (1n << 256n) - 1n];
const nonces = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
let seed = 7;
const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
const cases: Account[] = balances.flatMap((balance) => nonces.map((nonce) => ({ balance, nonce })));
for (let i = 0; i < 2000; i++) {
  let balance = 0n;
  for (let j = rnd(33); j > 0; j--) balance = (balance << 8n) | BigInt(rnd(256));
  cases.push({ balance, nonce: [rnd(0x80), rnd(0x100), rnd(0x10000), rnd(2 ** 31) * 2 + rnd(2), 2 ** 32 + rnd(2 ** 20)][rnd(5)]! });
}

t.test('encodeAccount writes exactly what encode(accountCodec) writes; decodeAccountRow reads it back', async (t) => {
  for (const a of cases) {
    const generic = encode(accountCodec, a);
    const fast = encodeAccount(a);
    if (hex(fast) !== hex(generic)) t.fail(`encode ${a.balance}/${a.nonce}: ${hex(fast)} != ${hex(generic)}`);
    const back = decodeAccountRow(generic);
    if (back.balance !== a.balance || back.nonce !== a.nonce) t.fail(`decode ${hex(generic)}`);
  }
  t.pass(`${cases.length} accounts`);
});

t.test('encodeAccount refuses what the codec refuses', async (t) => {
  t.throws(() => encodeAccount({ balance: -1n, nonce: 0 }), RangeError);
  t.throws(() => encodeAccount({ balance: 1n << 256n, nonce: 0 }), RangeError);
  t.throws(() => encodeAccount({ balance: 1n, nonce: -1 }), RangeError);
  t.throws(() => encodeAccount({ balance: 1n, nonce: 1.5 }), RangeError);
});

t.test('decodeAccountRow agrees with decodeTrusted on odd rows and refuses garbage', async (t) => {
  // valid msgpack, not minimal (never written by us): same value as decodeTrusted
  const odd = Uint8Array.from([0x92, 0xc4, 0x01, 0x05, 0xcd, 0x00, 0x07]);
  t.same(decodeAccountRow(odd), decodeTrusted(accountCodec, odd));
  for (const bad of [
    [],
    [0x92],
    [0x92, 0xc4],
    [0x92, 0xc4, 0x01],
    [0x92, 0xc4, 0x01, 0x05], // no nonce
    [0x92, 0xc4, 0x01, 0x05, 0x01, 0x00], // trailing byte
    [0x92, 0xc4, 0x02, 0x00, 0x05, 0x01], // leading zero in the amount
    [0x92, 0xc4, 0x21, ...new Array(33).fill(1), 0x01], // amount over 32 bytes
    [0x92, 0xc4, 0x01, 0x05, 0xff], // negative nonce
    [0x93, 0xc4, 0x00, 0x00, 0x00],
    [0xc1],
  ]) {
    t.throws(() => decodeAccountRow(Uint8Array.from(bad)), { code: 'ENCODING_INVALID' }, hex(Uint8Array.from(bad)));
  }
});

t.test('decoded-account cache follows checkpoint commit and revert', async (t) => {
  const o = new Overlay(new MemoryKvStore());
  const s = new BankStore(scopedStore(o, 1));
  const a = new Uint8Array(20).fill(1);
  const b = new Uint8Array(20).fill(2);
  s.credit(a, 100n);
  const before = s.account(a);
  t.ok(Object.isFrozen(before), 'shared accounts are frozen');
  t.equal(s.account(a), before, 'the same bytes give the same decoded account');
  o.checkpoint();
  s.move(a, b, 30n);
  t.same([s.balance(a), s.balance(b)], [70n, 30n]);
  o.revert();
  t.same([s.balance(a), s.balance(b)], [100n, 0n], 'revert restores the earlier rows and their decoded accounts');
  o.checkpoint();
  s.move(a, b, 40n);
  o.commitCheckpoint();
  t.same([s.balance(a), s.balance(b)], [60n, 40n]);
  s.setAccount(a, { balance: 0n, nonce: 0 });
  t.equal(o.get(Uint8Array.from([1, 0, 1, 0x61, ...a])), undefined, 'an empty account is deleted');
  t.same(s.account(a), { balance: 0n, nonce: 0 });
  // the rows in state are the canonical encodings
  const row = o.changes().find((c) => c.value && hex(c.key).endsWith(hex(b)))!;
  t.equal(hex(row.value!), hex(encode(accountCodec, { balance: 40n, nonce: 0 })));
});

t.test('decodeTransferArgs accepts and rejects exactly what decode(transferArgsCodec) does', async (t) => {
  const outcome = (f: () => TransferArgs) => {
    try {
      const v = f();
      return `ok ${hex(v.to)} ${v.amount}`;
    } catch (e) {
      return `err ${(e as { code?: string }).code} ${(e as Error).message}`;
    }
  };
  const valid = [0n, 1n, 0xffn, 0x100n, 10n ** 20n, (1n << 256n) - 1n].map((amount, i) => encode(transferArgsCodec, { to: new Uint8Array(20).fill(i + 1), amount }));
  let n = 0;
  const check = (b: Uint8Array) => {
    n++;
    const want = outcome(() => decode(transferArgsCodec, b, 'args'));
    const got = outcome(() => decodeTransferArgs(b, 'args'));
    if (got !== want) t.fail(`${hex(b)}: ${got} != ${want}`);
  };
  for (const v of valid) {
    check(v);
    for (let i = 0; i < v.length; i++) for (const x of [0x00, 0x01, 0x14, 0x15, 0x20, 0x21, 0x7f, 0x80, 0x92, 0xc4, 0xc5, 0xff]) check(Uint8Array.from(v, (b, j) => (j === i ? x : b)));
    check(v.subarray(0, v.length - 1));
    check(Uint8Array.from([...v, 0]));
  }
  // the amount as a bin16, and with a leading zero: valid msgpack, not canonical
  check(Uint8Array.from([0x92, 0xc4, 20, ...new Array(20).fill(1), 0xc5, 0, 1, 5]));
  check(Uint8Array.from([0x92, 0xc4, 20, ...new Array(20).fill(1), 0xc4, 2, 0, 5]));
  t.pass(`${n} inputs`);
  const v = decodeTransferArgs(valid[4]!, 'args');
  t.not(v.to.buffer, valid[4]!.buffer, 'the address is a copy, not a view into the tx');
});

t.test('account writes stay decoded until the block ends; out-of-range accounts are refused at the write', async (t) => {
  const o = new Overlay(new MemoryKvStore());
  const s = new BankStore(scopedStore(o, 1));
  const a = new Uint8Array(20).fill(3);
  s.credit(a, 5n);
  const first = s.account(a);
  s.setAccount(a, { balance: 6n, nonce: 2 });
  const second = s.account(a);
  t.not(second, first);
  t.equal(s.account(a), second, 'a written account reads back as the same frozen object');
  t.ok(Object.isFrozen(second));
  t.equal(o.getValue(Uint8Array.from([1, 0, 1, 0x61, ...a])), second, 'held decoded by the overlay');
  t.equal(hex(o.changes()[0]!.value!), hex(encode(accountCodec, { balance: 6n, nonce: 2 })), 'encoded canonically at the end');
  const top = (1n << 256n) - 1n;
  s.setAccount(a, { balance: top, nonce: 2 });
  t.throws(() => s.credit(a, 1n), RangeError, 'a balance above 2^256-1 throws at the credit, not at the commit');
  t.throws(() => s.setAccount(a, { balance: -1n, nonce: 0 }), RangeError, 'a negative balance');
  t.throws(() => s.setAccount(a, { balance: 1n, nonce: 2 ** 53 }), RangeError, 'an unsafe nonce');
  t.throws(() => s.setAccount(a, { balance: 1n, nonce: 1.5 }), RangeError, 'a fractional nonce');
  t.equal(s.balance(a), top, 'the refused writes changed nothing');
});
