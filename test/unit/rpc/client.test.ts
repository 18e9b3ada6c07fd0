import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RpcClient, RpcError, RpcTransportError, RpcTimeoutError } from '../../../rpc/client.js';
import { createRpcServer, type RpcServerOptions } from '../../../rpc/server.js';
import { APP_ERROR_CODES, RPC_CODE } from '../../../rpc/errors.js';
import { InvalidMessageError, ERR } from '../../../lib/errors.js';
import { FakeBackend, STATUS, block, txHash, silentLog } from './fakeBackend.js';

type Test = { teardown(fn: () => unknown): void };

const ADDRESS = '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf';

async function start(t: Test, opts: Partial<RpcServerOptions> = {}) {
  const backend = new FakeBackend();
  const server = createRpcServer({ backend, port: 0, log: silentLog, ...opts });
  const { url } = await server.start();
  const client = new RpcClient(url);
  t.teardown(async () => {
    await client.close();
    await server.stop();
  });
  return { backend, server, url, client };
}

t.test('URLs', async (t) => {
  const c = new RpcClient('http://127.0.0.1:26657');
  t.equal(c.url, 'http://127.0.0.1:26657/');
  t.equal(c.wsUrl, 'ws://127.0.0.1:26657/ws');
  t.equal(new RpcClient('https://node.example/').wsUrl, 'wss://node.example/ws');
  t.equal(new RpcClient('http://h:1', { wsUrl: 'ws://other:2/ws' }).wsUrl, 'ws://other:2/ws');
  t.throws(() => new RpcClient('ws://127.0.0.1:1'), TypeError);
});

t.test('every method', async (t) => {
  const { client, backend } = await start(t);
  t.same(await client.status(), STATUS);
  t.same(await client.getBlock(1), block(1));

  const raw = new Uint8Array([9, 8, 7]);
  const { hash } = await client.sendTx(raw);
  t.equal(hash, txHash(raw));
  t.same(await client.sendTx('0x0102'), { hash: txHash(new Uint8Array([1, 2])) }, 'hex string tx');
  t.same(await client.getTx(hash), { hash, status: 'pending' });
  t.same(await client.getTx(new Uint8Array(Buffer.from(hash.slice(2), 'hex'))), { hash, status: 'pending' }, 'hash as bytes');

  backend.accounts.set(ADDRESS.toLowerCase(), { balance: '5', nonce: 1 });
  t.same(await client.getAccount(ADDRESS), { balance: '5', nonce: 1 });
  t.same(await client.getAccount(new Uint8Array(Buffer.from(ADDRESS.slice(2), 'hex'))), { balance: '5', nonce: 1 }, 'address as bytes');

  t.same(await client.query('bank/balance', { address: ADDRESS }), { value: { path: 'bank/balance', args: { address: ADDRESS } }, height: 2 });
  const proved = await client.query('bank/balance', {}, { prove: true });
  t.ok(proved.proof);
  t.same(backend.calls.at(-1), { method: 'query', args: ['bank/balance', {}, true] });
  t.same(await client.call('chain_status'), STATUS, 'call() reaches any method');
});

t.test('RpcError carries code, appCode and data', async (t) => {
  const { client, backend } = await start(t);
  backend.throwNext.set('sendTx', new InvalidMessageError(ERR.BAD_NONCE, 'nonce 3 is below the account nonce 5', { expected: 5 }));
  const err = await client.sendTx('0x01').catch((e: unknown) => e);
  t.type(err, RpcError);
  const e = err as RpcError;
  t.equal(e.name, 'RpcError');
  t.equal(e.code, APP_ERROR_CODES[ERR.BAD_NONCE]);
  t.equal(e.appCode, 'TX_BAD_NONCE');
  t.equal(e.message, 'nonce 3 is below the account nonce 5');
  t.same(e.data, { code: 'TX_BAD_NONCE', expected: 5 });
  t.equal(e.method, 'tx_send');

  const notFound = (await client.getBlock(50).catch((x: unknown) => x)) as RpcError;
  t.equal(notFound.appCode, 'NOT_FOUND');

  const bad = (await client.getBlock(0).catch((x: unknown) => x)) as RpcError;
  t.equal(bad.code, RPC_CODE.INVALID_PARAMS);
  t.equal(bad.appCode, 'RPC_INVALID_PARAMS');
  t.equal(bad.data?.param, 'height');

  const missing = (await client.call('nope').catch((x: unknown) => x)) as RpcError;
  t.equal(missing.code, RPC_CODE.METHOD_NOT_FOUND);
  t.equal(missing.appCode, undefined);
  t.equal(missing.data, undefined);

  backend.throwNext.set('status', new Error('boom'));
  const internal = (await client.status().catch((x: unknown) => x)) as RpcError;
  t.equal(internal.code, RPC_CODE.INTERNAL_ERROR);
  t.equal(internal.appCode, undefined);
});

t.test('transport errors: HTTP status, unreachable node, non-JSON-RPC answer', async (t) => {
  const { client } = await start(t, { maxBodyBytes: 256 });
  const big = (await client.sendTx(new Uint8Array(200)).catch((x: unknown) => x)) as RpcTransportError;
  t.type(big, RpcTransportError);
  t.equal(big.status, 413);

  // A port with nothing listening: bind one, note it, close it.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const down = new RpcClient(`http://127.0.0.1:${port}`);
  const e = (await down.status().catch((x: unknown) => x)) as RpcTransportError;
  t.type(e, RpcTransportError);
  t.equal(e.status, undefined);
  t.match(e.message, /unreachable/);

  const silent = createServer(() => {}); // accepts requests, never answers
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    silent.closeAllConnections();
    return new Promise<void>((r) => silent.close(() => r()));
  });
  const slow = (await new RpcClient(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, { timeoutMs: 50 }).status().catch((x: unknown) => x)) as RpcTransportError;
  t.type(slow, RpcTransportError);
  t.match(slow.message, /no answer from .* within 50 ms/);

  const liar = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"jsonrpc":"2.0","id":999,"result":1}');
  });
  await new Promise<void>((r) => liar.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => liar.close(() => r())));
  const wrongId = (await new RpcClient(`http://127.0.0.1:${(liar.address() as AddressInfo).port}`).status().catch((x: unknown) => x)) as RpcTransportError;
  t.type(wrongId, RpcTransportError);
  t.match(wrongId.message, /does not answer the request/);
});

t.test('waitForTx over the WebSocket: committed', async (t) => {
  const { client, backend } = await start(t);
  const { hash } = await client.sendTx('0xaa');
  const waiting = client.waitForTx(hash, { timeoutMs: 10_000 });
  await backend.whenListenerCount(1); // subscribed
  const committed = { hash, status: 'committed' as const, height: 3, index: 0 };
  backend.setTx(committed);
  t.same(await waiting, committed);
  await backend.whenListenerCount(0);
  // At most the server's one status check on activation (none if the commit came first): no polling.
  t.ok(backend.calls.filter((c) => c.method === 'getTx').length <= 1, 'no polling');
});

t.test('waitForTx resolves for a failed tx, and for one already final', async (t) => {
  const { client, backend } = await start(t);
  const { hash } = await client.sendTx('0xbb');
  const failed = { hash, status: 'failed' as const, height: 3, index: 0, error: { code: 'BANK_INSUFFICIENT_FUNDS', message: 'insufficient funds' } };
  const waiting = client.waitForTx(hash);
  await backend.whenListenerCount(1);
  backend.setTx(failed);
  t.same(await waiting, failed);

  const done = { hash: '0x' + '11'.repeat(32), status: 'committed' as const, height: 1, index: 0 };
  backend.txs.set(done.hash, done);
  t.same(await client.waitForTx(done.hash), done, 'already committed before the wait began');
});

t.test('waitForTx falls back to polling tx_get without a WebSocket', async (t) => {
  const { url, backend } = await start(t);
  const client = new RpcClient(url, { wsUrl: url.replace('http://', 'ws://') + '/no-such-path' });
  t.teardown(() => client.close());
  const hash = '0x' + '22'.repeat(32);
  backend.txs.set(hash, { hash, status: 'pending' });
  const committed = { hash, status: 'committed' as const, height: 4, index: 2 };
  // Commit on the second poll: the first saw 'pending'.
  let polls = 0;
  const getTx = backend.getTx.bind(backend);
  backend.getTx = async (h: Uint8Array) => {
    if (++polls === 2) backend.setTx(committed);
    return getTx(h);
  };
  t.same(await client.waitForTx(hash, { pollIntervalMs: 5, timeoutMs: 10_000 }), committed);
  t.equal(polls, 2);
  t.equal(backend.listenerCount(), 0, 'no subscription was made');
});

t.test('waitForTx: bounded by timeoutMs; a bad hash is an RpcError; close() ends a wait', async (t) => {
  const { client, backend } = await start(t);
  const hash = '0x' + '33'.repeat(32);
  const timedOut = await client.waitForTx(hash, { timeoutMs: 50 }).catch((x: unknown) => x);
  t.type(timedOut, RpcTimeoutError);
  t.match((timedOut as Error).message, /neither committed nor failed within 50 ms/);
  await backend.whenListenerCount(0);

  const bad = await client.waitForTx('0x1234', { timeoutMs: 10_000 }).catch((x: unknown) => x);
  t.type(bad, RpcError);
  t.equal((bad as RpcError).code, RPC_CODE.INVALID_PARAMS);

  const waiting = client.waitForTx(hash, { timeoutMs: 10_000 });
  await backend.whenListenerCount(1);
  await client.close();
  const closed = await waiting.catch((x: unknown) => x);
  t.type(closed, RpcTransportError);
  t.match((closed as Error).message, /client closed/);
  await backend.whenListenerCount(0);
});

t.test('subscribeNewBlocks delivers blocks until unsubscribed', async (t) => {
  const { client, backend } = await start(t);
  const seen: number[] = [];
  let resolveTwo!: () => void;
  const two = new Promise<void>((r) => (resolveTwo = r));
  const unsubscribe = await client.subscribeNewBlocks((ev) => {
    seen.push(ev.height);
    if (seen.length === 2) resolveTwo();
  });
  t.equal(backend.listenerCount(), 1);
  backend.emitNewBlock({ height: 3, hash: '0x03', time: 3, txs: [] });
  backend.emitNewBlock({ height: 4, hash: '0x04', time: 4, txs: [] });
  await two;
  t.same(seen, [3, 4]);
  await unsubscribe();
  t.equal(backend.listenerCount(), 0);

  // onEnd runs when the WebSocket drops.
  let ended: Error | undefined;
  let resolveEnded!: () => void;
  const endedP = new Promise<void>((r) => (resolveEnded = r));
  await client.subscribeNewBlocks(() => {}, (err) => {
    ended = err;
    resolveEnded();
  });
  t.equal(backend.listenerCount(), 1);
  await client.close();
  await endedP;
  t.type(ended, RpcTransportError);
  await backend.whenListenerCount(0);
});

t.test('subscription cap: RpcError on subscribe; waitForTx falls back to polling', async (t) => {
  const { client, backend } = await start(t, { maxSubscriptionsPerSocket: 1 });
  const unsub = await client.subscribeNewBlocks(() => {});
  await t.rejects(client.subscribeNewBlocks(() => {}), { code: APP_ERROR_CODES.RPC_TOO_MANY_SUBSCRIPTIONS, appCode: 'RPC_TOO_MANY_SUBSCRIPTIONS' });
  // waitForTx on a full socket falls back to polling.
  const hash = '0x' + '44'.repeat(32);
  const done = { hash, status: 'committed' as const, height: 2, index: 0 };
  backend.txs.set(hash, done);
  t.same(await client.waitForTx(hash, { pollIntervalMs: 5 }), done);
  await unsub();
  t.equal(backend.listenerCount(), 0);
});

t.test('sendTxs: one batch over the WebSocket, one outcome per tx in order, errors by tx', async (t) => {
  const { client, backend } = await start(t);
  t.same(await client.sendTxs([]), [], 'nothing to send: no message');
  backend.throwNext.set('sendTx', new InvalidMessageError(ERR.BAD_NONCE, 'nonce 3 was already used'));
  const out = await client.sendTxs([new Uint8Array([1]), '0x02', 'not hex', new Uint8Array([3])]);
  t.equal(out.length, 4);
  t.same(out.map((o) => o.status), ['rejected', 'fulfilled', 'rejected', 'fulfilled'], 'the first refused by the node, the third by the params check');
  const first = (out[0] as PromiseRejectedResult).reason as RpcError;
  t.type(first, RpcError);
  t.equal(first.appCode, ERR.BAD_NONCE);
  t.equal(((out[2] as PromiseRejectedResult).reason as RpcError).code, RPC_CODE.INVALID_PARAMS);
  t.same((out[1] as PromiseFulfilledResult<{ hash: string }>).value, { hash: txHash(new Uint8Array([2])) });
  t.same((out[3] as PromiseFulfilledResult<{ hash: string }>).value, { hash: txHash(new Uint8Array([3])) });
  t.equal(backend.calls.filter((c) => c.method === 'prepareTxs').length, 1, 'the node saw one batch');

  const dead = new RpcClient('http://127.0.0.1:1', { timeoutMs: 2000 });
  const failed = await dead.sendTxs(['0x01', '0x02']);
  t.same(failed.map((o) => o.status), ['rejected', 'rejected']);
  t.type((failed[0] as PromiseRejectedResult).reason, RpcTransportError, 'an unreachable node: a transport error for every tx');
  await dead.close();
});
