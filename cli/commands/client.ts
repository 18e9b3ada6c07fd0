// Client commands over JSON-RPC: status, block, account, tx, transfer, query (with proof checking).
// Transactions are built by protocols/txBuilder.ts, proofs checked by protocols/verify.ts; this file
// only reads flags, calls the RPC client and prints.
import type { Command } from 'commander';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { fromHex, toHex } from '../../lib/hex.js';
import { addressOf, parseAddress, toChecksumAddress } from '../../crypto/keys.js';
import { loadGenesis } from '../../node/config.js';
import type { Validator } from '../../state/block.js';
import { defaultModules, indexModules, type ModuleIndex } from '../../protocols/registry.js';
import { buildModuleTx } from '../../protocols/txBuilder.js';
import { verifyQueryAnswer } from '../../protocols/verify.js';
import { RpcClient, RpcError, RpcTimeoutError, type TxStatusJson } from '../../rpc/client.js';
import type { StatusJson } from '../../rpc/backend.js';
import { processIo, runAction, lines, usageError, userErrorInfo, type CliIo, type ErrorInfo, type Output } from '../output.js';
import { loadKeyFromFlags, type KeyFlags } from '../keyFiles.js';

export const DEFAULT_RPC_URL = 'http://127.0.0.1:26657';
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

export interface ClientCommandOptions {
  io?: CliIo;
  /** Modules the client builds transactions and checks queries with (default: defaultModules()). */
  modules?: ModuleIndex;
}

interface RpcFlags {
  rpc: string;
}

interface SendFlags extends RpcFlags, KeyFlags {
  fee: string;
  nonce?: string;
  wait?: boolean;
  timeoutMs: string;
}

interface TxFlags extends SendFlags {
  args?: string;
}

interface TransferFlags extends SendFlags {
  to?: string;
  amount?: string;
}

interface QueryFlags extends RpcFlags {
  args?: string;
  prove?: boolean;
  genesis?: string;
}

// ---------------------------------------------------------------------------------------------
// Flag parsing

function parseJsonFlag(text: string | undefined, flag: string): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw usageError(`${flag} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function parseUint(text: string, flag: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) throw usageError(`${flag} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseAmount(text: string, flag: string): bigint {
  if (!/^(0|[1-9][0-9]{0,77})$/.test(text)) throw usageError(`${flag} must be a decimal amount in base units, got ${JSON.stringify(text)}`);
  return BigInt(text);
}

function checkRpcUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usageError(`--rpc must be a URL such as ${DEFAULT_RPC_URL}, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`--rpc must be an http(s) URL, got ${JSON.stringify(url)}`);
  return url;
}

/** Opens a client for the command's --rpc URL and always closes it. */
async function withClient<T>(flags: RpcFlags, body: (c: RpcClient) => Promise<T>): Promise<T> {
  const client = new RpcClient(checkRpcUrl(flags.rpc));
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

async function statusCmd(out: Output, flags: RpcFlags): Promise<void> {
  const s = await withClient(flags, (c) => c.status());
  out.result(
    { ...s },
    lines([
      ['chain', s.chainId],
      ['height', s.height],
      ['head', s.headHash],
      ['time', s.height > 0 ? new Date(s.headTime).toISOString() : '-'],
      ['validators', `${s.validators.length} (${s.validators.map((v) => v.name).join(', ')})`],
    ]),
  );
}

async function blockCmd(out: Output, heightText: string, flags: RpcFlags): Promise<void> {
  const b = await withClient(flags, async (c) => {
    const height = heightText === 'latest' ? (await c.status()).height : parseUint(heightText, 'height');
    if (height < 1) throw new InvalidMessageError(ERR.NOT_FOUND, 'no block yet (heights start at 1)');
    return c.getBlock(height);
  });
  const h = b.header;
  out.result(
    { ...b },
    [
      ...lines([
        ['height', String(h.height)],
        ['hash', b.hash],
        ['time', typeof h.time === 'number' ? new Date(h.time).toISOString() : String(h.time)],
        ['proposer', String(h.proposer)],
        ['stateRoot', String(h.stateRoot)],
        ['txs', b.txs.length],
      ]),
      ...b.txs.map((tx) => `  ${tx}`),
    ],
  );
}

async function accountCmd(out: Output, addressText: string, flags: RpcFlags): Promise<void> {
  const address = toChecksumAddress(parseAddress(addressText));
  const a = await withClient(flags, (c) => c.getAccount(address));
  out.result({ address, balance: a.balance, nonce: a.nonce }, lines([['address', address], ['balance', a.balance], ['nonce', a.nonce]]));
}

type TxOutcomeStatus = 'pending' | 'committed' | 'failed' | 'rejected';

interface TxOutcome {
  hash: string;
  status: TxOutcomeStatus;
  height: number | null;
  error: ErrorInfo | null;
}

/** Builds, signs, sends and (with --wait) waits for a module transaction; prints {hash, status, height, error}. */
async function sendModuleTx(out: Output, modules: ModuleIndex, module: string, method: string, args: unknown, flags: SendFlags): Promise<void> {
  const fee = parseAmount(flags.fee, '--fee');
  const nonceFlag = flags.nonce === undefined ? undefined : parseUint(flags.nonce, '--nonce');
  const timeoutMs = parseUint(flags.timeoutMs, '--timeout-ms');
  const key = await loadKeyFromFlags(flags);
  const sender = toChecksumAddress(addressOf(key.type, key.publicKey));
  const outcome = await withClient(flags, async (c): Promise<TxOutcome> => {
    const { chainId } = await c.status();
    const nonce = nonceFlag ?? (await c.getAccount(sender)).nonce;
    const tx = buildModuleTx({ modules, key, chainId, nonce, fee, module, method, args });
    try {
      await c.sendTx(tx.raw);
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      return { hash: tx.hash, status: 'rejected', height: null, error: userErrorInfo(e) ?? null };
    }
    if (!flags.wait) return { hash: tx.hash, status: 'pending', height: null, error: null };
    let r: TxStatusJson;
    try {
      r = await c.waitForTx(tx.hash, { timeoutMs });
    } catch (e) {
      if (!(e instanceof RpcTimeoutError)) throw e;
      return { hash: tx.hash, status: 'pending', height: null, error: { code: 'TX_WAIT_TIMEOUT', message: `neither committed nor failed within ${timeoutMs} ms` } };
    }
    const status = r.status === 'failed' ? 'failed' : 'committed';
    return { hash: tx.hash, status, height: r.height ?? null, error: r.error ? { code: r.error.code, message: r.error.message } : null };
  });
  const ok = outcome.status === 'committed' || (outcome.status === 'pending' && outcome.error === null);
  out.result(
    { ...outcome },
    lines([
      ['hash', outcome.hash],
      ['status', outcome.status],
      ...(outcome.height !== null ? [['height', outcome.height] as [string, number]] : []),
      ...(outcome.error !== null ? [['error', `${outcome.error.code}: ${outcome.error.message}`] as [string, string]] : []),
    ]),
    ok ? 0 : 1,
  );
}

async function txCmd(out: Output, modules: ModuleIndex, module: string, method: string, flags: TxFlags): Promise<void> {
  if (flags.args === undefined) throw usageError('missing --args JSON (e.g. --args \'{"to":"0x…","amount":"1"}\')');
  await sendModuleTx(out, modules, module, method, parseJsonFlag(flags.args, '--args'), flags);
}

async function transferCmd(out: Output, modules: ModuleIndex, flags: TransferFlags): Promise<void> {
  if (flags.to === undefined) throw usageError('missing --to ADDR');
  if (flags.amount === undefined) throw usageError('missing --amount N');
  const to = toHex(parseAddress(flags.to, '--to'));
  const amount = parseAmount(flags.amount, '--amount').toString(10);
  await sendModuleTx(out, modules, 'bank', 'transfer', { to, amount }, flags);
}

function validatorsFromStatus(s: StatusJson): Validator[] {
  return s.validators.map((v, i) => ({ name: v.name, consensusKey: fromHex(v.consensusKey, `validators[${i}].consensusKey`, 33), peerId: v.peerId, power: v.power }));
}

async function queryCmd(out: Output, modules: ModuleIndex, module: string, method: string, flags: QueryFlags): Promise<void> {
  const args = parseJsonFlag(flags.args, '--args');
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw usageError('--args must be a JSON object');
  const path = `${module}/${method}`;
  if (flags.genesis !== undefined && !flags.prove) throw usageError('--genesis is only used with --prove');
  const genesis = flags.genesis === undefined ? undefined : await loadGenesis(flags.genesis);
  await withClient(flags, async (c) => {
    const answer = await c.query(path, args as Record<string, unknown>, { prove: flags.prove === true });
    if (!flags.prove) {
      out.result({ value: answer.value, height: answer.height }, lines([['value', JSON.stringify(answer.value)], ['height', answer.height]]));
      return;
    }
    const trust = genesis ? 'genesis-file' : 'rpc-validators';
    let anchor: { chainId: string; validators: Validator[] };
    if (genesis) anchor = genesis;
    else {
      const s = await c.status();
      anchor = { chainId: s.chainId, validators: validatorsFromStatus(s) };
    }
    if (answer.height < 1) throw new InvalidMessageError(ERR.PROOF_INVALID, 'the answer is at height 0: no certified block to verify it against');
    const block = await c.getBlock(answer.height);
    await verifyQueryAnswer({
      modules,
      validators: anchor.validators,
      chainId: anchor.chainId,
      headerHex: block.headerHex,
      certificateHex: block.certificateHex,
      path,
      args,
      answer,
    });
    out.result(
      { value: answer.value, height: answer.height, verified: true, trust },
      lines([
        ['value', JSON.stringify(answer.value)],
        ['height', answer.height],
        ['verified', `yes (trust: ${trust === 'genesis-file' ? `validators of ${flags.genesis}` : 'validators reported by the RPC node'})`],
      ]),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Registration

function rpcOptions(cmd: Command): Command {
  return cmd.option('--rpc <url>', 'JSON-RPC endpoint', DEFAULT_RPC_URL).option('--json', 'print one JSON object');
}

function sendOptions(cmd: Command): Command {
  return rpcOptions(cmd)
    .option('--key <file>', 'signing key file (required)')
    .option('--passphrase-file <file>', 'passphrase of an encrypted key file')
    .option('--insecure', 'the key file is unencrypted (no passphrase)')
    .option('--fee <n>', 'fee in base units', '0')
    .option('--nonce <n>', "nonce (default: the sender's next nonce from account_get)")
    .option('--wait', 'wait until the transaction is committed or failed')
    .option('--timeout-ms <ms>', 'how long --wait waits', String(DEFAULT_WAIT_TIMEOUT_MS));
}

export function registerClientCommands(program: Command, opts: ClientCommandOptions = {}): void {
  const io = opts.io ?? processIo;
  let index = opts.modules;
  const modules = (): ModuleIndex => (index ??= indexModules(defaultModules()));

  rpcOptions(program.command('status').description('chain id, height, head block and validators'))
    .action((flags: RpcFlags, cmd: Command) => runAction(io, cmd, (out) => statusCmd(out, flags)));

  rpcOptions(program.command('block').description('a block header, hash and transaction hashes').argument('<height>', 'block height, or "latest"'))
    .action((height: string, flags: RpcFlags, cmd: Command) => runAction(io, cmd, (out) => blockCmd(out, height, flags)));

  rpcOptions(program.command('account').description('balance and next nonce of an address').argument('<address>', '0x address'))
    .action((address: string, flags: RpcFlags, cmd: Command) => runAction(io, cmd, (out) => accountCmd(out, address, flags)));

  sendOptions(
    program
      .command('tx')
      .description('sign and send a module transaction; prints {hash, status, height, error}')
      .argument('<module>', 'module name, e.g. bank')
      .argument('<method>', 'method name, e.g. transfer'),
  )
    .option('--args <json>', 'method arguments as a JSON object (bytes as 0x-hex, amounts as decimal strings)')
    .action((module: string, method: string, flags: TxFlags, cmd: Command) => runAction(io, cmd, (out) => txCmd(out, modules(), module, method, flags)));

  sendOptions(program.command('transfer').description('send tokens (bank/transfer)'))
    .option('--to <address>', 'recipient address (required)')
    .option('--amount <n>', 'amount in base units, decimal (required)')
    .action((flags: TransferFlags, cmd: Command) => runAction(io, cmd, (out) => transferCmd(out, modules(), flags)));

  rpcOptions(
    program
      .command('query')
      .description('run a module query; with --prove, verify the answer against a certified header')
      .argument('<module>', 'module name, e.g. bank')
      .argument('<method>', 'query name, e.g. balance'),
  )
    .option('--args <json>', 'query arguments as a JSON object', '{}')
    .option('--prove', 'fetch a proof and verify it against the validator set')
    .option('--genesis <file>', 'genesis.json whose validators to trust (default: the validators chain_status reports)')
    .action((module: string, method: string, flags: QueryFlags, cmd: Command) => runAction(io, cmd, (out) => queryCmd(out, modules(), module, method, flags)));
}
