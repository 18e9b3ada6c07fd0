// Client commands over JSON-RPC: status, block, account, tx, transfer, query (with proof checking).
// Transactions are built and submitted by protocols/txBuilder.ts, proofs checked by protocols/verify.ts; this file
// only reads flags, calls the RPC client and prints. (Names and flags: cli/commands/client.ts.)
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { fromHex, toHex } from '../../lib/hex.js';
import { parseAddress, toChecksumAddress } from '../../crypto/keys.js';
import { loadGenesis } from '../../node/config.js';
import type { Validator } from '../../state/block.js';
import type { ModuleIndex } from '../../protocols/registry.js';
import { submitTx, txSucceeded } from '../../protocols/txBuilder.js';
import { verifyQueryAnswer } from '../../protocols/verify.js';
import { RpcClient } from '../../rpc/client.js';
import type { StatusJson } from '../../rpc/backend.js';
import { lines, usageError, type Output } from '../output.js';
import { loadKeyFromFlags, type KeyFlags } from '../keyFiles.js';
import { DEFAULT_RPC_URL } from '../commands/client.js';

export interface RpcFlags {
  rpc: string;
}

export interface SendFlags extends RpcFlags, KeyFlags {
  fee: string;
  nonce?: string;
  wait?: boolean;
  timeoutMs: string;
}

export interface TxFlags extends SendFlags {
  args?: string;
}

export interface TransferFlags extends SendFlags {
  to?: string;
  amount?: string;
}

export interface QueryFlags extends RpcFlags {
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

/** The --rpc flag's URL, or a usage error naming what is wrong. */
export function checkRpcUrl(url: string): string {
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

export async function statusCmd(out: Output, flags: RpcFlags): Promise<void> {
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

export async function blockCmd(out: Output, heightText: string, flags: RpcFlags): Promise<void> {
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

export async function accountCmd(out: Output, addressText: string, flags: RpcFlags): Promise<void> {
  const address = toChecksumAddress(parseAddress(addressText));
  const a = await withClient(flags, (c) => c.getAccount(address));
  out.result({ address, balance: a.balance, nonce: a.nonce }, lines([['address', address], ['balance', a.balance], ['nonce', a.nonce]]));
}

/** Builds, signs, sends and (with --wait) waits for a module transaction; prints {hash, status, height, error}. */
async function sendModuleTx(out: Output, modules: ModuleIndex, module: string, method: string, args: unknown, flags: SendFlags): Promise<void> {
  const fee = parseAmount(flags.fee, '--fee');
  const nonce = flags.nonce === undefined ? undefined : parseUint(flags.nonce, '--nonce');
  const timeoutMs = parseUint(flags.timeoutMs, '--timeout-ms');
  const key = await loadKeyFromFlags(flags);
  const tx = await withClient(flags, (rpc) => submitTx({ rpc, modules, key, nonce, fee, module, method, args, wait: flags.wait === true, timeoutMs }));
  const outcome = { hash: tx.hash, status: tx.status, height: tx.height, error: tx.error };
  out.result(
    { ...outcome },
    lines([
      ['hash', outcome.hash],
      ['status', outcome.status],
      ...(outcome.height !== null ? [['height', outcome.height] as [string, number]] : []),
      ...(outcome.error !== null ? [['error', `${outcome.error.code}: ${outcome.error.message}`] as [string, string]] : []),
    ]),
    txSucceeded(tx) ? 0 : 1,
  );
}

export async function txCmd(out: Output, modules: ModuleIndex, module: string, method: string, flags: TxFlags): Promise<void> {
  if (flags.args === undefined) throw usageError('missing --args JSON (e.g. --args \'{"to":"0x…","amount":"1"}\')');
  await sendModuleTx(out, modules, module, method, parseJsonFlag(flags.args, '--args'), flags);
}

export async function transferCmd(out: Output, modules: ModuleIndex, flags: TransferFlags): Promise<void> {
  if (flags.to === undefined) throw usageError('missing --to ADDR');
  if (flags.amount === undefined) throw usageError('missing --amount N');
  const to = toHex(parseAddress(flags.to, '--to'));
  const amount = parseAmount(flags.amount, '--amount').toString(10);
  await sendModuleTx(out, modules, 'bank', 'transfer', { to, amount }, flags);
}

function validatorsFromStatus(s: StatusJson): Validator[] {
  return s.validators.map((v, i) => ({ name: v.name, consensusKey: fromHex(v.consensusKey, `validators[${i}].consensusKey`, 33), peerId: v.peerId, power: v.power }));
}

export async function queryCmd(out: Output, modules: ModuleIndex, module: string, method: string, flags: QueryFlags): Promise<void> {
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
