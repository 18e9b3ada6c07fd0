import t from 'tap';
import { request } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { createRpcServer, serializeNote, type RpcServerOptions } from '../../../rpc/server.js';
import { MAX_NEW_BLOCK_SUBSCRIPTIONS } from '../../../rpc/subscriptions.js';
import { APP_ERROR_CODES, RPC_CODE } from '../../../rpc/errors.js';
import { InvalidMessageError, ProtocolError, InternalError, ERR } from '../../../lib/errors.js';
import { toHex } from '../../../lib/hex.js';
import { MAX_TX_BYTES } from '../../../state/tx.js';
import { FakeBackend, STATUS, block, txHash, silentLog, recordingLog } from './fakeBackend.js';

type Json = Record<string, unknown>;
/** The part of a tap test that start() needs. */
type Test = { teardown(fn: () => unknown): void };

const ADDRESS = '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf'; // EIP-55
const HASH = '0x' + '5a'.repeat(32);

async function start(t: Test, opts: Partial<RpcServerOptions> = {}) {
  const backend = new FakeBackend();
  const server = createRpcServer({ backend, port: 0, log: silentLog, ...opts });
  const addr = await server.start();
  t.teardown(() => server.stop());
  return { backend, server, ...addr, wsUrl: addr.url.replace('http://', 'ws://') + '/ws' };
}

async function post(url: string, body: string | object, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function call(url: string, method: string, params?: unknown, id: unknown = 1): Promise<Json> {
  const req: Json = { jsonrpc: '2.0', id, method };
  if (params !== undefined) req.params = params;
  const res = await post(url, req);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return res.json as Json;
}

function errorOf(res: Json): { code: number; message: string; data?: Json } {
  return res.error as { code: number; message: string; data?: Json };
}

/** A raw WebSocket peer: queued incoming messages, awaited one at a time. */
class Peer {
  private readonly inbox: unknown[] = [];
  private readonly waiters: ((m: unknown) => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m: unknown = JSON.parse(String(data));
      const w = this.waiters.shift();
      if (w) w(m);
      else this.inbox.push(m);
    });
  }
  static connect(url: string, opts: WebSocket.ClientOptions = {}): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts);
      ws.once('open', () => resolve(new Peer(ws)));
      ws.once('error', reject);
    });
  }
  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }
  next(): Promise<Json> {
    const m = this.inbox.shift();
    if (m !== undefined) return Promise.resolve(m as Json);
    return new Promise((resolve) => this.waiters.push((x) => resolve(x as Json)));
  }
  async call(method: string, params: unknown, id = 1): Promise<Json> {
    this.send({ jsonrpc: '2.0', id, method, params });
    return this.next();
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

t.test('binds 127.0.0.1 by default; health, routes, HTTP methods and content type', async (t) => {
  const { url, host, port } = await start(t);
  t.equal(host, '127.0.0.1');
  t.equal(url, `http://127.0.0.1:${port}`);
  t.ok(port > 0);
  const health = await fetch(`${url}/health`);
  t.equal(health.status, 200);
  t.same(await health.json(), { ok: true });
  t.equal((await fetch(`${url}/`)).status, 405, 'GET / is 405');
  t.equal((await fetch(`${url}/`)).headers.get('allow'), 'POST');
  t.equal((await fetch(`${url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 404);
  const plain = await post(url, { jsonrpc: '2.0', id: 1, method: 'chain_status' }, { 'content-type': 'text/plain' });
  t.equal(plain.status, 415, 'a non-JSON content type is refused (no simple cross-site POST)');
  const charset = await post(url, { jsonrpc: '2.0', id: 1, method: 'chain_status' }, { 'content-type': 'application/json; charset=utf-8' });
  t.equal(charset.status, 200);
});

t.test('every method: happy path', async (t) => {
  const { url, backend } = await start(t);

  t.same(await call(url, 'chain_status', {}), { jsonrpc: '2.0', id: 1, result: STATUS });
  t.same((await call(url, 'chain_status')).result, STATUS, 'params may be omitted');

  t.same((await call(url, 'chain_getBlock', { height: 2 }, 'b')).result, block(2));
  t.equal((await call(url, 'chain_getBlock', { height: 2 }, 'b')).id, 'b', 'string ids are echoed');

  const raw = new Uint8Array([1, 2, 3, 4]);
  const sent = await call(url, 'tx_send', { tx: toHex(raw) });
  t.same(sent.result, { hash: txHash(raw) });
  t.same(backend.calls.find((c) => c.method === 'sendTx')?.args[0], raw, 'the backend gets the raw bytes');

  const got = await call(url, 'tx_get', { hash: txHash(raw) });
  t.same(got.result, { hash: txHash(raw), status: 'pending' });
  t.same((await call(url, 'tx_get', { hash: HASH.toUpperCase().replace('0X', '0x') })).result, { hash: HASH, status: 'unknown' });

  backend.accounts.set(ADDRESS.toLowerCase(), { balance: '1000000000000000000000', nonce: 7 });
  t.same((await call(url, 'account_get', { address: ADDRESS })).result, { balance: '1000000000000000000000', nonce: 7 }, 'EIP-55 address');
  t.same((await call(url, 'account_get', { address: ADDRESS.toLowerCase() })).result, { balance: '1000000000000000000000', nonce: 7 }, 'lower case');
  t.same((await call(url, 'account_get', { address: '0x' + ADDRESS.slice(2).toUpperCase() })).result, { balance: '1000000000000000000000', nonce: 7 }, 'upper case');

  t.same((await call(url, 'query', { path: 'bank/balance', args: { address: ADDRESS } })).result, {
    value: { path: 'bank/balance', args: { address: ADDRESS } },
    height: 2,
  });
  t.same(backend.calls.at(-1), { method: 'query', args: ['bank/balance', { address: ADDRESS }, false] }, 'prove defaults to false');
  await call(url, 'query', { path: 'bank/params' });
  t.same(backend.calls.at(-1)?.args, ['bank/params', {}, false], 'args default to {}');
  const proved = await call(url, 'query', { path: 'bank/balance', args: {}, prove: true });
  t.same((proved.result as Json).proof, { records: [{ key: '0x01', value: null, proof: '0x02' }] });
});

t.test('chain_getBlock of a missing height is NOT_FOUND', async (t) => {
  const { url } = await start(t);
  const err = errorOf(await call(url, 'chain_getBlock', { height: 99 }));
  t.equal(err.code, APP_ERROR_CODES[ERR.NOT_FOUND]);
  t.equal(err.message, 'no block at height 99');
  t.same(err.data, { code: 'NOT_FOUND', height: 99 });
});

t.test('standard errors for malformed requests', async (t) => {
  const { url } = await start(t, { maxBatch: 3 });
  const cases: [string, string, number, RegExp][] = [
    ['invalid JSON', '{bad json', RPC_CODE.PARSE_ERROR, /parse error/],
    ['empty batch', '[]', RPC_CODE.INVALID_REQUEST, /empty batch/],
    ['a number', '1', RPC_CODE.INVALID_REQUEST, /not a JSON-RPC request/],
    ['null', 'null', RPC_CODE.INVALID_REQUEST, /not a JSON-RPC request/],
    ['wrong version', '{"jsonrpc":"1.0","id":1,"method":"chain_status"}', RPC_CODE.INVALID_REQUEST, /jsonrpc must be "2.0"/],
    ['no version', '{"id":1,"method":"chain_status"}', RPC_CODE.INVALID_REQUEST, /jsonrpc/],
    ['object id', '{"jsonrpc":"2.0","id":{},"method":"chain_status"}', RPC_CODE.INVALID_REQUEST, /id must be/],
    ['boolean id', '{"jsonrpc":"2.0","id":true,"method":"chain_status"}', RPC_CODE.INVALID_REQUEST, /id must be/],
    ['numeric method', '{"jsonrpc":"2.0","id":1,"method":5}', RPC_CODE.INVALID_REQUEST, /method must be a string/],
    ['scalar params', '{"jsonrpc":"2.0","id":1,"method":"chain_status","params":5}', RPC_CODE.INVALID_REQUEST, /params must be/],
    ['batch too large', JSON.stringify([1, 2, 3, 4].map((id) => ({ jsonrpc: '2.0', id, method: 'chain_status' }))), RPC_CODE.INVALID_REQUEST, /batch of 4 exceeds the limit of 3/],
    ['unknown method', '{"jsonrpc":"2.0","id":1,"method":"eth_call"}', RPC_CODE.METHOD_NOT_FOUND, /method not found: eth_call/],
    ['inherited name', '{"jsonrpc":"2.0","id":1,"method":"toString"}', RPC_CODE.METHOD_NOT_FOUND, /method not found/],
  ];
  for (const [name, body, code, message] of cases) {
    const res = await post(url, body);
    t.equal(res.status, 200, `${name}: HTTP 200`);
    const json = res.json as Json;
    t.equal(json.jsonrpc, '2.0', name);
    t.equal(errorOf(json).code, code, name);
    t.match(errorOf(json).message, message, name);
  }
  const wrongVersion = (await post(url, '{"jsonrpc":"1.0","id":7,"method":"chain_status"}')).json as Json;
  t.equal(wrongVersion.id, 7, 'a valid id is echoed in an invalid-request error');
  t.equal(((await post(url, '{bad json')).json as Json).id, null, 'parse errors carry id null');
  const subscribe = errorOf(await call(url, 'chain_subscribe', { event: 'newBlock' }));
  t.equal(subscribe.code, RPC_CODE.METHOD_NOT_FOUND);
  t.match(subscribe.message, /only available over WebSocket/);
});

t.test('-32602 for every kind of bad param, naming the param, before the backend is called', async (t) => {
  const { url, backend } = await start(t);
  const badChecksum = '0x7e5F4552091A69125d5DfCb7b8C2659029395Bdf';
  const cases: [string, string, unknown, string, RegExp][] = [
    ['missing height', 'chain_getBlock', {}, 'height', /missing param: height/],
    ['height 0', 'chain_getBlock', { height: 0 }, 'height', /height must be an integer >= 1/],
    ['negative height', 'chain_getBlock', { height: -1 }, 'height', /height must be an integer >= 1/],
    ['non-integer height', 'chain_getBlock', { height: 1.5 }, 'height', /height must be an integer/],
    ['string height', 'chain_getBlock', { height: '1' }, 'height', /height must be an integer/],
    ['unsafe height', 'chain_getBlock', { height: 2 ** 60 }, 'height', /height must be an integer/],
    ['positional params', 'chain_getBlock', [1], 'params', /must be an object of named params/],
    ['unknown param', 'chain_getBlock', { height: 1, extra: true }, 'extra', /unknown param: "extra"/],
    ['params on chain_status', 'chain_status', { verbose: true }, 'verbose', /unknown param/],
    ['missing tx', 'tx_send', {}, 'tx', /missing param: tx/],
    ['non-hex tx', 'tx_send', { tx: '0xzz' }, 'tx', /tx must be 0x-prefixed hex/],
    ['odd-length tx', 'tx_send', { tx: '0xabc' }, 'tx', /tx must be 0x-prefixed hex/],
    ['tx without 0x', 'tx_send', { tx: 'abcd' }, 'tx', /tx must be 0x-prefixed hex/],
    ['empty tx', 'tx_send', { tx: '0x' }, 'tx', /tx must not be empty/],
    ['number tx', 'tx_send', { tx: 12 }, 'tx', /tx must be a 0x-hex string/],
    ['oversized tx', 'tx_send', { tx: '0x' + '00'.repeat(MAX_TX_BYTES + 1) }, 'tx', new RegExp(`tx exceeds ${MAX_TX_BYTES} bytes`)],
    ['short hash', 'tx_get', { hash: '0x' + 'aa'.repeat(31) }, 'hash', /hash must be 0x followed by 64 hex digits/],
    ['long hash', 'tx_get', { hash: '0x' + 'aa'.repeat(33) }, 'hash', /hash must be 0x followed by 64 hex digits/],
    ['non-hex hash', 'tx_get', { hash: '0x' + 'zz'.repeat(32) }, 'hash', /hash must be 0x-prefixed hex/],
    ['missing hash', 'tx_get', {}, 'hash', /missing param: hash/],
    ['bad address checksum', 'account_get', { address: badChecksum }, 'address', /address has an invalid EIP-55 checksum/],
    ['short address', 'account_get', { address: '0x1234' }, 'address', /address must be 0x followed by 40 hex digits/],
    ['number address', 'account_get', { address: 5 }, 'address', /address must be/],
    ['missing path', 'query', {}, 'path', /missing param: path/],
    ['bad path', 'query', { path: 'bank' }, 'path', /path must be a string "module\/method"/],
    ['path traversal', 'query', { path: '../x/y' }, 'path', /path must be/],
    ['array args', 'query', { path: 'bank/balance', args: [1] }, 'args', /args must be a JSON object/],
    ['null args', 'query', { path: 'bank/balance', args: null }, 'args', /args must be a JSON object/],
    ['string prove', 'query', { path: 'bank/balance', prove: 'yes' }, 'prove', /prove must be a boolean/],
  ];
  for (const [name, method, params, param, message] of cases) {
    const err = errorOf(await call(url, method, params));
    t.equal(err.code, RPC_CODE.INVALID_PARAMS, name);
    t.match(err.message, message, name);
    t.same(err.data, { code: 'RPC_INVALID_PARAMS', param }, name);
  }
  t.same(
    backend.calls.filter((c) => c.method !== 'status'),
    [],
    'the backend was never called with bad params',
  );
});

t.test('batches: in order, good and bad mixed, notifications omitted', async (t) => {
  const { url, backend } = await start(t);
  const res = await post(url, [
    { jsonrpc: '2.0', id: 1, method: 'chain_getBlock', params: { height: 1 } },
    { jsonrpc: '2.0', id: 2, method: 'nope' },
    1,
    { jsonrpc: '2.0', method: 'tx_send', params: { tx: '0x01' } }, // notification: runs, no response
    { jsonrpc: '2.0', id: 3, method: 'chain_getBlock', params: { height: 0 } },
    { jsonrpc: '2.0', id: null, method: 'chain_status' },
  ]);
  t.equal(res.status, 200);
  const out = res.json as Json[];
  t.equal(out.length, 5);
  t.same(out[0], { jsonrpc: '2.0', id: 1, result: block(1) });
  t.equal(errorOf(out[1]!).code, RPC_CODE.METHOD_NOT_FOUND);
  t.equal(out[1]!.id, 2);
  t.equal(errorOf(out[2]!).code, RPC_CODE.INVALID_REQUEST);
  t.equal(out[2]!.id, null);
  t.equal(errorOf(out[3]!).code, RPC_CODE.INVALID_PARAMS);
  t.equal(out[3]!.id, 3);
  t.same(out[4], { jsonrpc: '2.0', id: null, result: STATUS });
  t.ok(backend.calls.some((c) => c.method === 'sendTx'), 'the notification ran');

  const allNotifications = await post(url, [
    { jsonrpc: '2.0', method: 'chain_status' },
    { jsonrpc: '2.0', method: 'nope' },
  ]);
  t.equal(allNotifications.status, 204, 'nothing to answer: 204, no body');
  t.equal(allNotifications.text, '');
});

t.test('a batch hands its well-formed tx_send txs to the backend once, before running its members', async (t) => {
  const { url, backend } = await start(t);
  const res = await post(url, [
    { jsonrpc: '2.0', id: 1, method: 'tx_send', params: { tx: '0x01' } },
    { jsonrpc: '2.0', id: 2, method: 'chain_status' },
    { jsonrpc: '2.0', id: 3, method: 'tx_send', params: { tx: 'zz' } }, // bad hex: skipped, then -32602 when run
    { jsonrpc: '2.0', id: 4, method: 'tx_send', params: { tx: '0x0203' } },
    { jsonrpc: '2.0', id: 5, method: 'tx_send' }, // no params
  ]);
  const out = res.json as Json[];
  t.equal(errorOf(out[2]!).code, RPC_CODE.INVALID_PARAMS, 'the malformed member still gets its own error');
  t.equal(errorOf(out[4]!).code, RPC_CODE.INVALID_PARAMS);
  const order = backend.calls.map((c) => c.method);
  t.same(order.filter((m) => m === 'prepareTxs' || m === 'sendTx'), ['prepareTxs', 'sendTx', 'sendTx'], 'prepared once, before the sends');
  const prepared = backend.calls.find((c) => c.method === 'prepareTxs')!.args[0] as Uint8Array[];
  t.same(prepared.map((r) => [...r]), [[1], [2, 3]], 'only the well-formed txs, in order');

  backend.calls.length = 0;
  await call(url, 'tx_send', { tx: '0x05' });
  await post(url, [{ jsonrpc: '2.0', id: 1, method: 'tx_send', params: { tx: '0x06' } }, { jsonrpc: '2.0', id: 2, method: 'chain_status' }]);
  t.notOk(backend.calls.some((c) => c.method === 'prepareTxs'), 'a single request, or a batch with one tx, is not prepared');

  backend.throwNext.set('prepareTxs', new Error('prepare failed'));
  const again = await post(url, [
    { jsonrpc: '2.0', id: 1, method: 'tx_send', params: { tx: '0x07' } },
    { jsonrpc: '2.0', id: 2, method: 'tx_send', params: { tx: '0x08' } },
  ]);
  t.same((again.json as Json[]).map((r) => 'result' in r), [true, true], 'a failing preparation does not fail the batch');
});

t.test('a notification (no id) gets no response, even when it fails', async (t) => {
  const { url, backend } = await start(t);
  const ok = await post(url, { jsonrpc: '2.0', method: 'tx_send', params: { tx: '0x0102' } });
  t.equal(ok.status, 204);
  t.equal(ok.text, '');
  t.equal(backend.txs.size, 1);
  const bad = await post(url, { jsonrpc: '2.0', method: 'chain_getBlock', params: { height: 0 } });
  t.equal(bad.status, 204);
  t.equal(bad.text, '');
});

t.test('413 on an oversize body: declared length, and streamed without a length', async (t) => {
  const { url, port, backend } = await start(t, { maxBodyBytes: 1024 });
  const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tx_send', params: { tx: '0x' + '00'.repeat(1024) } });
  const declared = await post(url, big);
  t.equal(declared.status, 413);
  t.match(declared.text, /exceeds 1024 bytes/);

  const streamed = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err) => reject(err));
    for (let i = 0; i < 8; i++) req.write('x'.repeat(512)); // 4 KiB in chunks, more than the limit
    req.end();
  });
  t.equal(streamed, 413);
  t.same(backend.calls, [], 'nothing reached the backend');

  const ok = await call(url, 'chain_status', {});
  t.same(ok.result, STATUS, 'the server still answers afterwards');
});

t.test('a slow body is cut off by the request timeout', async (t) => {
  const { port } = await start(t, { requestTimeoutMs: 200, headersTimeoutMs: 200 });
  const closed = await new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc"');
    });
    let data = '';
    socket.on('data', (d) => (data += String(d)));
    socket.on('error', () => {});
    socket.on('close', () => resolve(data));
  });
  t.match(closed, /^HTTP\/1\.1 408/, 'the server answers 408 and closes the connection');
});

t.test('application errors are mapped by code with data.code', async (t) => {
  const { url, backend } = await start(t);
  backend.throwNext.set('sendTx', new InvalidMessageError(ERR.BAD_NONCE, 'nonce 3 is below the account nonce 5', { expected: 5, got: 3 }));
  const nonce = errorOf(await call(url, 'tx_send', { tx: '0x01' }));
  t.equal(nonce.code, APP_ERROR_CODES[ERR.BAD_NONCE]);
  t.ok(nonce.code <= -32000 && nonce.code >= -32099, 'in the application range');
  t.equal(nonce.message, 'nonce 3 is below the account nonce 5');
  t.same(nonce.data, { code: 'TX_BAD_NONCE', expected: 5, got: 3 });

  backend.throwNext.set('query', new InvalidMessageError(ERR.UNKNOWN_QUERY, 'unknown query bank/nope'));
  const q = errorOf(await call(url, 'query', { path: 'bank/nope' }));
  t.equal(q.code, APP_ERROR_CODES[ERR.UNKNOWN_QUERY]);
  t.same(q.data, { code: 'QUERY_UNKNOWN' });

  backend.throwNext.set('sendTx', new ProtocolError('BANK_SOMETHING_NEW', 'a module error', { code: 'ignored' }));
  const generic = errorOf(await call(url, 'tx_send', { tx: '0x01' }));
  t.equal(generic.code, RPC_CODE.APP_ERROR_GENERIC, 'unknown codes → the generic application code');
  t.same(generic.data, { code: 'BANK_SOMETHING_NEW' }, 'data.code is always the error code');

  backend.throwNext.set('sendTx', new InvalidMessageError(ERR.FEE_TOO_LOW, 'fee below the minimum', { min: 10n }));
  const bigintData = errorOf(await call(url, 'tx_send', { tx: '0x01' }));
  t.same(bigintData, { code: APP_ERROR_CODES[ERR.FEE_TOO_LOW], message: 'fee below the minimum' }, 'data JSON cannot carry is dropped, the error still sent');

  const codes = Object.values(APP_ERROR_CODES);
  t.equal(new Set(codes).size, codes.length, 'the table has no duplicate numbers');
  for (const c of codes) t.ok(c <= -32001 && c >= -32099, `${c} in range`);
  for (const code of ['TX_BAD_SIGNATURE', 'TX_HIGH_S_SIGNATURE', 'TX_WRONG_CHAIN_ID', 'TX_FEE_TOO_LOW', 'TX_INSUFFICIENT_FEE_BALANCE', 'TX_UNKNOWN_MODULE', 'TX_UNKNOWN_METHOD', 'TX_BAD_ARGS', 'TX_DUPLICATE', 'MEMPOOL_FULL', 'ENCODING_INVALID', 'TOO_LARGE', 'PROOF_INVALID']) {
    t.ok(APP_ERROR_CODES[code] !== undefined, `${code} is mapped`);
  }
});

t.test('internal errors: -32603, no message, data or stack leaks; logged at error level', async (t) => {
  const rec = recordingLog();
  const { url, backend } = await start(t, { log: rec.log });
  backend.throwNext.set('getAccount', new Error('ENOENT /home/secret/db'));
  const res = await post(url, { jsonrpc: '2.0', id: 1, method: 'account_get', params: { address: ADDRESS } });
  t.equal(res.status, 200);
  t.same(res.json, { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'internal error' } });
  t.notMatch(res.text, /secret|at |stack/);

  backend.throwNext.set('getBlock', new InternalError(ERR.DB_CORRUPT, 'block 1 unreadable'));
  t.same(errorOf(await call(url, 'chain_getBlock', { height: 1 })), { code: -32603, message: 'internal error' });

  backend.throwNext.set('status', new TypeError('x is undefined'));
  t.same(errorOf(await call(url, 'chain_status', {})), { code: -32603, message: 'internal error' });
  t.equal(rec.lines.filter((l) => l.level === 'error').length, 3);
});

t.test('untrusted payloads never reach logs at info or above', async (t) => {
  const rec = recordingLog();
  const { url, backend } = await start(t, { log: rec.log });
  const marker = 'MARKER0123';
  await post(url, `{bad json ${marker}`);
  await call(url, `${marker}_method`, { x: marker });
  await call(url, 'query', { path: 'bank/balance', args: { x: marker } });
  await call(url, 'chain_getBlock', { height: marker });
  backend.throwNext.set('sendTx', new InvalidMessageError(ERR.BAD_SIGNATURE, 'bad signature'));
  await call(url, 'tx_send', { tx: '0x01' });
  const loud = rec.lines.filter((l) => l.level !== 'debug');
  t.notMatch(JSON.stringify(loud), new RegExp(marker));
});

t.test('WebSocket: methods, newBlock subscription, unsubscribe', async (t) => {
  const { wsUrl, backend } = await start(t);
  const peer = await Peer.connect(wsUrl);
  t.teardown(() => peer.close());

  t.same(await peer.call('chain_status', {}), { jsonrpc: '2.0', id: 1, result: STATUS }, 'plain methods work over /ws');
  t.equal(errorOf(await peer.call('chain_getBlock', { height: 0 })).code, RPC_CODE.INVALID_PARAMS);

  const sub = await peer.call('chain_subscribe', { event: 'newBlock' }, 2);
  t.equal(sub.id, 2);
  const id = sub.result as string;
  t.match(id, /^0x[0-9a-f]{32}$/);
  t.equal(backend.listenerCount(), 1);

  const ev = { height: 3, hash: '0x' + '03'.repeat(32), time: 3, txs: [] };
  backend.emitNewBlock(ev);
  t.same(await peer.next(), { jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: id, result: ev } });
  backend.emitNewBlock({ ...ev, height: 4 });
  t.equal(((await peer.next()).params as Json).subscription, id);

  t.same(await peer.call('chain_unsubscribe', { subscription: id }, 3), { jsonrpc: '2.0', id: 3, result: true });
  t.equal(backend.listenerCount(), 0);
  t.same((await peer.call('chain_unsubscribe', { subscription: id }, 4)).result, false, 'unknown id → false');
  backend.emitNewBlock({ ...ev, height: 5 });
  t.same(await peer.call('chain_status', {}, 5), { jsonrpc: '2.0', id: 5, result: STATUS }, 'no notification after unsubscribe');
});

t.test('WebSocket: tx subscription notifies once when the tx is committed or failed, then ends', async (t) => {
  const { wsUrl, backend } = await start(t);
  const peer = await Peer.connect(wsUrl);
  t.teardown(() => peer.close());

  const sub = await peer.call('chain_subscribe', { event: 'tx', hash: HASH });
  const id = sub.result as string;
  await backend.whenListenerCount(1);
  backend.setTx({ hash: HASH, status: 'pending' }); // not final: no notification
  const committed = { hash: HASH, status: 'committed' as const, height: 3, index: 0 };
  backend.setTx(committed);
  t.same(await peer.next(), { jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: id, result: committed } });
  t.equal(backend.listenerCount(), 0, 'the subscription ended');
  t.same((await peer.call('chain_unsubscribe', { subscription: id }, 2)).result, false, 'already gone');

  const failedHash = '0x' + '6b'.repeat(32);
  const failed = { hash: failedHash, status: 'failed' as const, height: 3, index: 1, error: { code: 'BANK_INSUFFICIENT_FUNDS', message: 'insufficient funds' } };
  const sub2 = await peer.call('chain_subscribe', { event: 'tx', hash: failedHash }, 3);
  backend.setTx(failed);
  t.same(await peer.next(), { jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: sub2.result, result: failed } });
  await backend.whenListenerCount(0);
});

t.test('WebSocket: a tx already final when subscribing is reported after the subscription id', async (t) => {
  const { wsUrl, backend } = await start(t);
  const status = { hash: HASH, status: 'committed' as const, height: 1, index: 0 };
  backend.txs.set(HASH, status);
  const peer = await Peer.connect(wsUrl);
  t.teardown(() => peer.close());
  const sub = await peer.call('chain_subscribe', { event: 'tx', hash: HASH });
  t.type(sub.result, 'string', 'the response comes first');
  t.same(await peer.next(), { jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: sub.result, result: status } });
  await backend.whenListenerCount(0);
});

t.test('WebSocket: notifications fired during a batch wait for the subscription response', async (t) => {
  const { wsUrl, backend } = await start(t);
  const peer = await Peer.connect(wsUrl);
  t.teardown(() => peer.close());
  // The backend fires a block while the batch is still being processed (during getBlock).
  const ev = { height: 9, hash: '0x' + '09'.repeat(32), time: 9, txs: [] };
  const orig = backend.getBlock.bind(backend);
  backend.getBlock = async (h: number) => {
    backend.emitNewBlock(ev);
    return orig(h);
  };
  peer.send([
    { jsonrpc: '2.0', id: 1, method: 'chain_subscribe', params: { event: 'newBlock' } },
    { jsonrpc: '2.0', id: 2, method: 'chain_getBlock', params: { height: 1 } },
  ]);
  const first = (await peer.next()) as unknown as Json[];
  t.ok(Array.isArray(first), 'the batch response comes first');
  const id = first[0]!.result;
  t.same(await peer.next(), { jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: id, result: ev } });
});

t.test('WebSocket: bad subscribe params, subscription cap, HTTP-only paths', async (t) => {
  const { wsUrl, backend } = await start(t, { maxSubscriptionsPerSocket: 2 });
  const peer = await Peer.connect(wsUrl);
  t.teardown(() => peer.close());
  const bad: [unknown, string, RegExp][] = [
    [{}, 'event', /missing param: event/],
    [{ event: 'blocks' }, 'event', /event must be "newBlock" or "tx"/],
    [{ event: 'tx' }, 'hash', /missing param: hash/],
    [{ event: 'tx', hash: '0x12' }, 'hash', /hash must be 0x followed by 64 hex digits/],
    [{ event: 'newBlock', hash: HASH }, 'hash', /only for event "tx"/],
  ];
  for (const [params, param, message] of bad) {
    const err = errorOf(await peer.call('chain_subscribe', params));
    t.equal(err.code, RPC_CODE.INVALID_PARAMS);
    t.match(err.message, message);
    t.equal(err.data?.param, param);
  }
  t.equal(errorOf(await peer.call('chain_unsubscribe', { subscription: 5 })).code, RPC_CODE.INVALID_PARAMS);

  await peer.call('chain_subscribe', { event: 'newBlock' });
  await peer.call('chain_subscribe', { event: 'tx', hash: HASH });
  const third = errorOf(await peer.call('chain_subscribe', { event: 'newBlock' }));
  t.equal(third.code, APP_ERROR_CODES.RPC_TOO_MANY_SUBSCRIPTIONS);
  t.equal(third.data?.code, 'RPC_TOO_MANY_SUBSCRIPTIONS');
  t.equal(backend.listenerCount(), 2);

  t.same(await peer.call('nope', {}), { jsonrpc: '2.0', id: 1, error: { code: RPC_CODE.METHOD_NOT_FOUND, message: 'method not found: nope' } });
  peer.ws.send(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"chain_status"}'), { binary: true });
  t.match(errorOf(await peer.next()), { code: RPC_CODE.INVALID_REQUEST, message: /text frames/ }, 'binary frames are refused');
  peer.send('{bad json');
  t.equal(errorOf(await peer.next()).code, RPC_CODE.PARSE_ERROR);
  peer.send({ jsonrpc: '2.0', method: 'chain_status' }); // notification: no answer
  t.equal((await peer.call('chain_status', {}, 42)).id, 42, 'the next message answers the next request');
});

t.test('WebSocket: closing the socket removes every listener', async (t) => {
  const { wsUrl, backend } = await start(t);
  const peer = await Peer.connect(wsUrl);
  await peer.call('chain_subscribe', { event: 'newBlock' });
  await peer.call('chain_subscribe', { event: 'tx', hash: HASH });
  await peer.call('chain_subscribe', { event: 'tx', hash: '0x' + '77'.repeat(32) });
  t.equal(backend.listenerCount(), 3);
  await peer.close();
  await backend.whenListenerCount(0);
  t.equal(backend.listenerCount(), 0);
});

t.test('WebSocket: wrong path, foreign origin and connection cap are refused', async (t) => {
  const { wsUrl, url } = await start(t, { maxWsConnections: 1, allowedOrigins: ['https://dash.example'] });
  const refused = (u: string, opts: WebSocket.ClientOptions = {}) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(u, opts);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', () => {});
      ws.on('open', () => reject(new Error('opened')));
    });
  t.equal(await refused(url.replace('http://', 'ws://') + '/other'), 404);
  t.equal(await refused(wsUrl, { origin: 'https://evil.example' }), 403);
  const allowed = await Peer.connect(wsUrl, { origin: 'https://dash.example' });
  t.equal(await refused(wsUrl), 503, 'the connection cap is reached');
  await allowed.close();
});

t.test('stop() closes WebSocket clients and is idempotent', async (t) => {
  const backend = new FakeBackend();
  const server = createRpcServer({ backend, port: 0 });
  const { url } = await server.start();
  const peer = await Peer.connect(url.replace('http://', 'ws://') + '/ws');
  await peer.call('chain_subscribe', { event: 'newBlock' });
  const closed = new Promise<number>((resolve) => peer.ws.once('close', (code) => resolve(code)));
  await Promise.all([server.stop(), server.stop()]);
  t.equal(await closed, 1001);
  t.equal(backend.listenerCount(), 0);
  await t.rejects(fetch(`${url}/health`), 'no longer listening');
});

t.test('consensus_evidence lists evidence and validates limit', async (t) => {
  const backend = new FakeBackend();
  backend.evidenceList.push({ validator: 2, type: 'Prepare', height: 7, a: '0x01', b: '0x02' });
  const server = createRpcServer({ backend, port: 0 });
  const { url } = await server.start();
  t.teardown(() => server.stop());
  const call = async (params: unknown) =>
    (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'consensus_evidence', params }) })).json() as Promise<{ result?: unknown; error?: { code: number } }>;
  t.same((await call({})).result, backend.evidenceList);
  t.equal((await call({ limit: 0 })).error?.code, -32602);
  t.equal((await call({ limit: 'x' })).error?.code, -32602);
});

t.test('a batch whose responses pass maxResponseBytes: later members are not run and get -32019 with their ids', async (t) => {
  const { url, backend } = await start(t, { maxResponseBytes: 1000 });
  const n = 20;
  const res = await post(url, Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'chain_getBlock', params: { height: 1 } })));
  const out = res.json as Json[];
  t.equal(out.length, n, 'one response per member');
  const ran = out.filter((o) => o.result !== undefined).length;
  const one = JSON.stringify({ jsonrpc: '2.0', id: 0, result: block(1) }).length;
  t.equal(ran, Math.ceil(1001 / one), 'members ran until the responses passed 1,000 characters');
  t.ok(ran < n);
  for (const o of out.slice(ran)) t.match(o.error, { code: APP_ERROR_CODES.RPC_RESPONSE_TOO_LARGE, data: { code: 'RPC_RESPONSE_TOO_LARGE', max: 1000 } });
  t.same(out.map((o) => o.id), Array.from({ length: n }, (_, i) => i), 'ids kept, in order');
  t.equal(backend.calls.filter((c) => c.method === 'getBlock').length, ran, 'the rest were not run');
});

t.test('batch members yield to the event loop between them once the batch has run batchYieldAfterMs', async (t) => {
  const { url, backend } = await start(t, { batchYieldAfterMs: 0 });
  const order: string[] = [];
  const getBlock = backend.getBlock.bind(backend);
  backend.getBlock = async (h: number) => {
    order.push(`member ${h}`);
    // work queued behind this member (a timer, a p2p message): it runs before the next member
    setImmediate(() => order.push(`after ${h}`));
    return getBlock(h);
  };
  await post(url, [1, 2, 3].map((h) => ({ jsonrpc: '2.0', id: h, method: 'chain_getBlock', params: { height: h } })));
  t.same(order.slice(0, 5), ['member 1', 'after 1', 'member 2', 'after 2', 'member 3']);
});

t.test('notifications: the same bytes as JSON.stringify, a block event serialized once for every subscriber', async (t) => {
  const ev = { height: 7, hash: '0x' + 'ab'.repeat(32), time: 5, txs: ['0x' + '01'.repeat(32)] };
  const note = (id: string) => ({ jsonrpc: '2.0' as const, method: 'chain_subscription', params: { subscription: id, result: ev } });
  t.equal(serializeNote(note('0x1')), JSON.stringify(note('0x1')));
  t.equal(serializeNote(note('0x2')), JSON.stringify(note('0x2')), 'a second subscriber: its own id, the cached result');
  const status = { hash: HASH, status: 'failed', height: 3, index: 0, error: { code: 'X', message: 'm "quoted"' }, events: [] };
  t.equal(serializeNote({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: '0x3', result: status } }), JSON.stringify({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: '0x3', result: status } }));
  let stringified = 0;
  const counted = { toJSON: () => (stringified++, ev) };
  for (let i = 0; i < 100; i++) serializeNote({ jsonrpc: '2.0', method: 'chain_subscription', params: { subscription: `0x${i}`, result: counted } });
  t.equal(stringified, 1, '100 subscribers, one serialization');
});

t.test('WebSocket: at most 4 newBlock subscriptions per socket', async (t) => {
  const { wsUrl } = await start(t);
  const peer = await Peer.connect(wsUrl);
  t.teardown(() => peer.close());
  for (let i = 0; i < MAX_NEW_BLOCK_SUBSCRIPTIONS; i++) t.type((await peer.call('chain_subscribe', { event: 'newBlock' }, i)).result, 'string');
  const fifth = errorOf(await peer.call('chain_subscribe', { event: 'newBlock' }, 9));
  t.equal(fifth.code, APP_ERROR_CODES.RPC_TOO_MANY_SUBSCRIPTIONS);
  t.match(fifth.message, /newBlock/);
  t.type((await peer.call('chain_subscribe', { event: 'tx', hash: HASH }, 10)).result, 'string', 'tx subscriptions are still allowed');
});

t.test('HTTP: idle connections are closed, and connections are capped', async (t) => {
  const { port } = await start(t, { idleSocketTimeoutMs: 200, maxHttpConnections: 2 });
  const open = () =>
    new Promise<import('node:net').Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  const closed = (s: import('node:net').Socket, ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      s.once('close', () => (clearTimeout(timer), resolve(true)));
      s.resume();
    });
  const a = await open();
  t.ok(await closed(a, 5000), 'a connection that sends nothing is closed after the idle timeout');
  const b = await open();
  const c = await open();
  const d = await open();
  t.ok(await closed(d, 5000), 'a third connection while two are open is dropped');
  b.destroy();
  c.destroy();
});
