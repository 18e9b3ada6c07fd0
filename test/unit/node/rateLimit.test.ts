import t from 'tap';
import { PeerBudgets, type Budget } from '../../../node/rateLimit.js';

const budget: Budget = { messagesPerSecond: 2, messageBurst: 4, bytesPerSecond: 100, byteBurst: 1000 };

t.test('a burst, then the sustained rate', async (t) => {
  let now = 0;
  const b = new PeerBudgets(budget, { now: () => now });
  t.same([1, 2, 3, 4, 5].map(() => b.take('p', 10)), [true, true, true, true, false], 'the burst of 4 messages, then refused');
  t.notOk(b.take('p', 10), 'still refused at the same instant');
  t.ok(b.take('q', 10), 'another peer has its own budget');
  now = 499;
  t.notOk(b.take('p', 10), 'just under one message refilled (2/s)');
  now = 500;
  t.ok(b.take('p', 10), 'one message refilled after 500 ms');
  t.notOk(b.take('p', 10));
  now = 60_000;
  t.same([1, 2, 3, 4, 5].map(() => b.take('p', 10)), [true, true, true, true, false], 'a quiet minute refills to the burst, never beyond');
});

t.test('bytes are a budget of their own; a refused message spends nothing', async (t) => {
  let now = 0;
  const b = new PeerBudgets(budget, { now: () => now });
  t.ok(b.take('p', 900));
  t.notOk(b.take('p', 101), '101 bytes left? no, 100');
  t.ok(b.take('p', 100), 'the refused message did not spend its bytes (nor a message)');
  t.notOk(b.take('p', 1), 'bytes exhausted');
  now = 1000;
  t.ok(b.take('p', 100), '100 bytes/s refilled');
  t.notOk(b.take('p', 1001), 'a message larger than the burst never passes');
  now = 10 ** 9;
  t.notOk(b.take('p', 1001), 'not even after any wait');
});

t.test('charge: a cost known after serving may overdraw; take refuses until it has refilled', async (t) => {
  let now = 0;
  const b = new PeerBudgets(budget, { now: () => now });
  t.ok(b.take('p', 0));
  b.charge('p', 1500);
  t.notOk(b.take('p', 0), 'overdrawn by 500 bytes');
  now = 4999;
  t.notOk(b.take('p', 0), 'still below zero');
  now = 5010;
  t.ok(b.take('p', 0), 'back above zero after 5 s at 100 bytes/s');
  b.charge('unknown', 10 ** 9);
  t.ok(b.take('unknown', 0), 'charging a peer that was never seen records nothing');
});

t.test('the table stays bounded; peers back at their burst go first', async (t) => {
  let now = 0;
  const b = new PeerBudgets(budget, { now: () => now, maxPeers: 3 });
  for (const p of ['a', 'b', 'c']) t.ok(b.take(p, 1000));
  t.equal(b.size, 3);
  now = 100_000; // everyone refilled: all forgotten when a new peer arrives
  t.ok(b.take('d', 1000));
  t.equal(b.size, 1, 'full buckets forgotten');
  for (const p of ['e', 'f']) t.ok(b.take(p, 1000));
  t.ok(b.take('g', 1000), 'no bucket is full: the oldest goes');
  t.equal(b.size, 3);
  t.notOk(b.take('g', 1), 'g keeps its spent bucket');
});

t.test('a budget must be positive and finite', async (t) => {
  for (const k of ['messagesPerSecond', 'messageBurst', 'bytesPerSecond', 'byteBurst'] as const) {
    for (const v of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      t.throws(() => new PeerBudgets({ ...budget, [k]: v }), RangeError, `${k} = ${v}`);
    }
  }
});
