// Client commands against a small fake JSON-RPC server (node:http on 127.0.0.1, port 0) backed by an
// in-memory single-validator chain: tx_send admits the tx and commits it in a block at once.
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testChain, testGenesis, testKey, addr, CHAIN_ID, type TestChain } from '../../utils/chain.js';
import { saveKeyFile } from '../../../crypto/keystore.js';
import { KeyType, toChecksumAddress } from '../../../crypto/keys.js';
import { decodeTx } from '../../../state/tx.js';
import { decode, encode } from '../../../lib/encoding.js';
import { fromHex, toHex } from '../../../lib/hex.js';
import { InvalidMessageError, ERR } from '../../../lib/errors.js';
import { genesisToJson } from '../../../state/genesis.js';
import { commitCertificateCodec, headerCodec, headerToJson, validatorAddress } from '../../../state/block.js';
import { runQuery } from '../../../protocols/query.js';
import { transferArgsCodec } from '../../../protocols/bank/codec.js';
import { toJsonRpcError } from '../../../rpc/errors.js';
import type { TxStatusJson } from '../../../rpc/backend.js';
import { runCli, TEST_SCRYPT_N } from './helpers.js';

const alice = testKey('alice');
const bob = testKey('bob');

interface Fake {
  url: string;
  chain: TestChain;
  /** Raw txs received by tx_send, in order. */
  sent: Uint8Array[];
  calls: string[];
  /** Rewrites a query answer before it is sent (to test proof checking). */
  tamperQuery?: (answer: { value: unknown; height: number; proof?: unknown }) => void;
  /** Admit txs without committing them (tx_get says pending). */
  hold?: boolean;
}

async function fakeNode(t: { teardown(f: () => Promise<void> | void): void }): Promise<Fake> {
  const chain = await testChain({ funded: [[alice, 1_000_000n]] });
  const statuses = new Map<string, TxStatusJson>();
  const fake: Fake = { url: '', chain, sent: [], calls: [] };
  const app = chain.app;
  const methods: Record<string, (p: Record<string, unknown>) => Promise<unknown>> = {
    chain_status: async () => {
      const i = app.info();
      return {
        chainId: i.chainId,
        height: i.height,
        headHash: toHex(i.headHash),
        headTime: i.headTime,
        stateRoot: toHex(i.stateRoot),
        validators: i.validators.map((v) => ({ name: v.name, consensusKey: toHex(v.consensusKey), peerId: v.peerId, power: v.power, address: toHex(validatorAddress(v)) })),
      };
    },
    account_get: async (p) => {
      const a = app.account(fromHex(String(p.address), 'address', 20));
      return { balance: a.balance.toString(), nonce: a.nonce };
    },
    tx_send: async (p) => {
      const raw = fromHex(String(p.tx), 'tx');
      fake.sent.push(raw);
      const tx = app.checkTx(raw);
      if (fake.hold) {
        statuses.set(tx.idHex, { hash: tx.idHex, status: 'pending' });
        return { hash: tx.idHex };
      }
      const b = await chain.block([raw]);
      const r = b.results[0]!;
      statuses.set(
        tx.idHex,
        r.code === '' ? { hash: tx.idHex, status: 'committed', height: b.header.height, index: 0 } : { hash: tx.idHex, status: 'failed', height: b.header.height, index: 0, error: { code: r.code, message: r.message } },
      );
      return { hash: tx.idHex };
    },
    tx_get: async (p) => statuses.get(String(p.hash)) ?? { hash: String(p.hash), status: 'unknown' },
    chain_getBlock: async (p) => {
      const h = Number(p.height);
      const block = app.blocks.block(h);
      const cert = app.blocks.certificate(h);
      if (!block || !cert) throw new InvalidMessageError(ERR.NOT_FOUND, `no block at height ${h}`);
      return {
        header: headerToJson(block.header),
        hash: toHex(encode(headerCodec, block.header)),
        txs: block.txs.map((raw) => decodeTx(raw).idHex),
        certificate: commitCertificateCodec.toJson(cert),
        certificateHex: toHex(encode(commitCertificateCodec, cert)),
        headerHex: toHex(encode(headerCodec, block.header)),
      };
    },
    query: async (p) => {
      const answer = await runQuery(app, String(p.path), p.args, p.prove === true);
      fake.tamperQuery?.(answer);
      return answer;
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let id: unknown = null;
        let body: unknown;
        try {
          const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: unknown; method: string; params?: Record<string, unknown> };
          id = msg.id;
          fake.calls.push(msg.method);
          const m = methods[msg.method];
          if (!m) throw new InvalidMessageError('RPC_METHOD_NOT_FOUND', `no method ${msg.method}`);
          body = { jsonrpc: '2.0', id, result: await m(msg.params ?? {}) };
        } catch (e) {
          body = { jsonrpc: '2.0', id, error: toJsonRpcError(e) };
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return fake;
}

async function tempDir(t: { teardown(f: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-cli-client-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const NO_STACK = /\n\s+at /;

t.test('transfer sends a bank/transfer tx with the chain id and the account nonce; --wait reports the commit', async (t) => {
  const fake = await fakeNode(t);
  const dir = await tempDir(t);
  const keyFile = join(dir, 'alice.json');
  await saveKeyFile(keyFile, alice, undefined);
  const to = toChecksumAddress(addr(bob));

  const r = await runCli(['transfer', '--key', keyFile, '--to', to, '--amount', '1500', '--fee', '2', '--rpc', fake.url, '--wait', '--json']);
  t.equal(r.exitCode, 0, r.err);
  const j = r.json();
  t.match(j, { status: 'committed', height: 1, error: null });
  t.equal(fake.sent.length, 1);
  const tx = decodeTx(fake.sent[0]!);
  t.equal(j.hash, tx.idHex, 'printed hash is the tx id');
  t.equal(tx.body.chainId, CHAIN_ID, 'chain id from chain_status');
  t.equal(tx.body.nonce, 0, 'nonce from account_get');
  t.equal(tx.body.moduleId, 1, 'bank');
  t.equal(tx.body.methodId, 1, 'transfer');
  t.equal(tx.body.fee, 2n);
  const args = decode(transferArgsCodec, tx.body.args, 'args');
  t.same(args.to, addr(bob));
  t.equal(args.amount, 1500n);
  t.equal(fake.chain.app.account(addr(bob)).balance, 1500n);

  // the next one takes the next nonce; without --wait it is reported pending
  const r2 = await runCli(['transfer', '--key', keyFile, '--to', to, '--amount', '1', '--rpc', fake.url]);
  t.equal(r2.exitCode, 0, r2.err);
  t.match(r2.out, /^hash:\s+0x[0-9a-f]{64}\nstatus:\s+pending\n$/);
  t.equal(decodeTx(fake.sent[1]!).body.nonce, 1);

  // account shows the result
  const acc = await runCli(['account', toHex(addr(bob)), '--rpc', fake.url, '--json']);
  t.same(acc.json(), { address: to, balance: '1501', nonce: 0 });
});

t.test('tx MODULE METHOD: encrypted key, explicit nonce, failed and rejected txs exit 1', async (t) => {
  const fake = await fakeNode(t);
  const dir = await tempDir(t);
  const keyFile = join(dir, 'alice.json');
  const pass = join(dir, 'pass');
  await writeFile(pass, 'secret\n');
  await saveKeyFile(keyFile, alice, 'secret', { scryptN: TEST_SCRYPT_N });
  const args = JSON.stringify({ to: toHex(addr(bob)), amount: '7' });
  const base = ['--key', keyFile, '--passphrase-file', pass, '--rpc', fake.url];

  const ok = await runCli(['tx', 'bank', 'transfer', '--args', args, ...base, '--wait']);
  t.equal(ok.exitCode, 0, ok.err);
  t.match(ok.out, /status:\s+committed\nheight:\s+1/);

  const noPass = await runCli(['tx', 'bank', 'transfer', '--args', args, '--key', keyFile, '--rpc', fake.url]);
  t.equal(noPass.exitCode, 1);
  t.match(noPass.err, /is encrypted: give --passphrase-file/);

  // insufficient funds: included, failed
  const failed = await runCli(['tx', 'bank', 'transfer', '--args', JSON.stringify({ to: toHex(addr(bob)), amount: '999999999' }), ...base, '--wait', '--json']);
  t.equal(failed.exitCode, 1);
  t.match(failed.json(), { status: 'failed', height: 2, error: { code: 'BANK_INSUFFICIENT_FUNDS' } });

  // a replayed nonce is rejected by the node
  const rejected = await runCli(['tx', 'bank', 'transfer', '--args', args, ...base, '--nonce', '0', '--json']);
  t.equal(rejected.exitCode, 1);
  t.match(rejected.json(), { status: 'rejected', height: null, error: { code: 'TX_BAD_NONCE' } });
  const rejectedHuman = await runCli(['tx', 'bank', 'transfer', '--args', args, ...base, '--nonce', '0']);
  t.equal(rejectedHuman.exitCode, 1);
  t.match(rejectedHuman.out, /status:\s+rejected\nerror:\s+TX_BAD_NONCE: /);

  // --wait gives up after --timeout-ms: reported, exit 1
  fake.hold = true;
  const slow = await runCli(['tx', 'bank', 'transfer', '--args', args, ...base, '--wait', '--timeout-ms', '300', '--json']);
  t.equal(slow.exitCode, 1);
  t.match(slow.json(), { status: 'pending', height: null, error: { code: 'TX_WAIT_TIMEOUT', message: /300 ms/ } });
  fake.hold = false;

  // client-side errors: nothing is sent
  const sentBefore = fake.sent.length;
  const cases: [string[], RegExp, string][] = [
    [['tx', 'nope', 'transfer', '--args', args, ...base], /unknown module "nope" \(modules: bank, [a-z, ]+\)/, 'TX_UNKNOWN_MODULE'],
    [['tx', 'bank', 'mint', '--args', args, ...base], /no method "mint" \(methods: transfer\)/, 'TX_UNKNOWN_METHOD'],
    [['tx', 'bank', 'transfer', '--args', '{"to":', ...base], /--args is not valid JSON/, 'CLI_USAGE'],
    [['tx', 'bank', 'transfer', '--args', '{"to":"0x12","amount":"1"}', ...base], /bad args for bank\/transfer: args\.to/, 'TX_BAD_ARGS'],
    [['tx', 'bank', 'transfer', ...base], /missing --args/, 'CLI_USAGE'],
    [['tx', 'bank', 'transfer', '--args', args, ...base, '--fee', '1.5'], /--fee must be a decimal amount/, 'CLI_USAGE'],
    [['tx', 'bank', 'transfer', '--args', args, ...base, '--nonce', '-1'], /--nonce must be a non-negative integer/, 'CLI_USAGE'],
    [['transfer', ...base, '--to', '0x' + 'aB'.repeat(20), '--amount', '1'], /--to has an invalid EIP-55 checksum/, 'ENCODING_INVALID'],
    [['transfer', ...base, '--to', toHex(addr(bob)), '--amount', '1e3'], /--amount must be a decimal amount/, 'CLI_USAGE'],
    [['transfer', ...base, '--amount', '1'], /missing --to/, 'CLI_USAGE'],
    [['transfer', '--to', toHex(addr(bob)), '--amount', '1', '--rpc', fake.url], /missing --key FILE/, 'CLI_USAGE'],
    [['transfer', ...base, '--insecure', '--to', toHex(addr(bob)), '--amount', '1'], /either --passphrase-file or --insecure, not both/, 'CLI_USAGE'],
    [['transfer', '--key', keyFile, '--insecure', '--rpc', fake.url, '--to', toHex(addr(bob)), '--amount', '1'], /is encrypted: give --passphrase-file/, 'KEY_WRONG_PASSPHRASE'],
  ];
  for (const [argv, re, code] of cases) {
    const h = await runCli(argv);
    t.equal(h.exitCode, 1, code);
    t.match(h.err, re, code);
    t.notMatch(h.err, NO_STACK, `${code}: no stack trace`);
    const j = await runCli([...argv, '--json']);
    t.equal(j.exitCode, 1);
    t.match(j.json(), { error: { code, message: re } });
  }
  t.equal(fake.sent.length, sentBefore, 'nothing sent');
});

t.test('status, block, account', async (t) => {
  const fake = await fakeNode(t);
  await fake.chain.block([]);
  const s = await runCli(['status', '--rpc', fake.url, '--json']);
  t.equal(s.exitCode, 0, s.err);
  t.match(s.json(), { chainId: CHAIN_ID, height: 1, validators: [{ name: 'v0' }] });
  const sh = await runCli(['status', '--rpc', fake.url]);
  t.match(sh.out, /^chain:\s+test-chain\nheight:\s+1\n/);
  const b = await runCli(['block', '1', '--rpc', fake.url, '--json']);
  t.equal(b.exitCode, 0, b.err);
  t.match(b.json(), { header: { height: 1, chainId: CHAIN_ID }, txs: [], headerHex: /^0x/ });
  const latest = await runCli(['block', 'latest', '--rpc', fake.url]);
  t.match(latest.out, /^height:\s+1\nhash:\s+0x/);
  const missing = await runCli(['block', '9', '--rpc', fake.url, '--json']);
  t.equal(missing.exitCode, 1);
  t.match(missing.json(), { error: { code: 'NOT_FOUND', message: /no block at height 9/ } });
  const badH = await runCli(['block', 'x', '--rpc', fake.url]);
  t.equal(badH.exitCode, 1);
  t.match(badH.err, /height must be a non-negative integer/);
  const acc = await runCli(['account', toChecksumAddress(addr(alice)), '--rpc', fake.url]);
  t.match(acc.out, /balance:\s+1000000\nnonce:\s+0/);
  const badAddr = await runCli(['account', '0x1234', '--rpc', fake.url]);
  t.equal(badAddr.exitCode, 1);
  t.match(badAddr.err, /address must be 0x followed by 40 hex digits/);
});

t.test('query, and query --prove verified against rpc validators or a genesis file', async (t) => {
  const fake = await fakeNode(t);
  const dir = await tempDir(t);
  await fake.chain.block([]);
  const args = JSON.stringify({ address: toHex(addr(alice)) });
  const plain = await runCli(['query', 'bank', 'balance', '--args', args, '--rpc', fake.url, '--json']);
  t.equal(plain.exitCode, 0, plain.err);
  t.same(plain.json(), { value: { balance: '1000000', nonce: 0 }, height: 1 });

  const proved = await runCli(['query', 'bank', 'balance', '--args', args, '--rpc', fake.url, '--prove', '--json']);
  t.equal(proved.exitCode, 0, proved.err);
  t.same(proved.json(), { value: { balance: '1000000', nonce: 0 }, height: 1, verified: true, trust: 'rpc-validators' });
  t.ok(fake.calls.includes('chain_getBlock'));

  const genesisFile = join(dir, 'genesis.json');
  await writeFile(genesisFile, JSON.stringify(genesisToJson(fake.chain.app.genesis)));
  const anchored = await runCli(['query', 'bank', 'balance', '--args', args, '--rpc', fake.url, '--prove', '--genesis', genesisFile]);
  t.equal(anchored.exitCode, 0, anchored.err);
  t.match(anchored.out, /value:\s+\{"balance":"1000000","nonce":0\}\nheight:\s+1\nverified:\s+yes \(trust: validators of .*genesis\.json\)/);

  // a genesis file with another validator set: the certificate does not verify
  const otherGenesis = join(dir, 'other.json');
  await writeFile(otherGenesis, JSON.stringify(genesisToJson(testGenesis({ validator: testKey('mallory', KeyType.p256) }))));
  const foreign = await runCli(['query', 'bank', 'balance', '--args', args, '--rpc', fake.url, '--prove', '--genesis', otherGenesis, '--json']);
  t.equal(foreign.exitCode, 1);
  t.match(foreign.json(), { error: { code: 'PROOF_INVALID', message: /validator set/ } });

  // a node that lies about the value
  fake.tamperQuery = (a) => {
    a.value = { balance: '5', nonce: 0 };
  };
  const lie = await runCli(['query', 'bank', 'balance', '--args', args, '--rpc', fake.url, '--prove']);
  t.equal(lie.exitCode, 1);
  t.match(lie.err, /^error: the answered value differs/);
  t.notMatch(lie.err, NO_STACK);
  fake.tamperQuery = (a) => {
    a.proof = undefined;
  };
  const noProof = await runCli(['query', 'bank', 'balance', '--args', args, '--rpc', fake.url, '--prove', '--json']);
  t.equal(noProof.exitCode, 1);
  t.match(noProof.json(), { error: { code: 'PROOF_INVALID', message: /no proof/ } });
  fake.tamperQuery = undefined;

  const unknown = await runCli(['query', 'bank', 'nope', '--rpc', fake.url, '--json']);
  t.equal(unknown.exitCode, 1);
  t.match(unknown.json(), { error: { code: 'QUERY_UNKNOWN' } });
  const notObject = await runCli(['query', 'bank', 'balance', '--args', '[1]', '--rpc', fake.url]);
  t.equal(notObject.exitCode, 1);
  t.match(notObject.err, /--args must be a JSON object/);
  const badGenesis = await runCli(['query', 'bank', 'balance', '--args', args, '--rpc', fake.url, '--prove', '--genesis', join(dir, 'none.json')]);
  t.equal(badGenesis.exitCode, 1);
  t.match(badGenesis.err, /cannot read .*none\.json: ENOENT/);
});

t.test('an unreachable node or a bad --rpc URL is a clear error', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const r = await runCli(['status', '--rpc', `http://127.0.0.1:${port}`]);
  t.equal(r.exitCode, 1);
  t.match(r.err, /^error: rpc chain_status: http:\/\/127\.0\.0\.1:\d+\/ unreachable/);
  t.notMatch(r.err, NO_STACK);
  const j = await runCli(['status', '--rpc', `http://127.0.0.1:${port}`, '--json']);
  t.match(j.json(), { error: { code: 'RPC_UNREACHABLE' } });
  const bad = await runCli(['status', '--rpc', 'ftp://x']);
  t.equal(bad.exitCode, 1);
  t.match(bad.err, /--rpc must be an http\(s\) URL/);
});
