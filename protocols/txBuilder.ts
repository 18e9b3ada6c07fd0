// Building a module transaction from names and JSON args (CLI, devnet faucet, gateways, scripts).
// The inverse of what the node does on receipt: resolve "module/method" to its permanent ids, turn
// the JSON args into the method's typed args with its codec, run its stateless `validateBasic`, then
// encode the args canonically and sign the transaction body (state/tx.ts).
// Then the one way off-chain code submits a transaction: `submitTx` sends it over JSON-RPC and waits
// for its result. Off-chain: the state machine never imports this file.
import { encode } from '../lib/encoding.js';
import { IotchainError, InvalidMessageError, ERR } from '../lib/errors.js';
import { toHex } from '../lib/hex.js';
import { addressOf, type KeyPair } from '../crypto/keys.js';
import { buildTx, decodeTx, CHAIN_ID_RE, MAX_ARGS_BYTES, MAX_TX_BYTES } from '../state/tx.js';
import { RpcError, RpcTimeoutError, type RpcClient, type TxStatusJson } from '../rpc/client.js';
import type { Method, NativeModule } from './module.js';
import type { ModuleIndex } from './registry.js';

export interface ResolvedMethod {
  module: NativeModule;
  name: string;
  def: Method<unknown>;
}

function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/**
 * Finds a method by module and method name. Throws TX_UNKNOWN_MODULE / TX_UNKNOWN_METHOD naming the
 * valid choices.
 */
export function resolveMethod(modules: ModuleIndex, module: string, method: string): ResolvedMethod {
  const m = modules.byName.get(module);
  if (!m) {
    const names = [...modules.byName.keys()].join(', ');
    throw new InvalidMessageError(ERR.UNKNOWN_MODULE, `unknown module "${module}" (modules: ${names || 'none'})`, { module });
  }
  const methods = m.methods as Record<string, Method<unknown>>;
  const def = own(methods, method);
  if (!def) {
    throw new InvalidMessageError(ERR.UNKNOWN_METHOD, `module ${m.name} has no method "${method}" (methods: ${Object.keys(methods).join(', ') || 'none'})`, {
      module,
      method,
    });
  }
  return { module: m, name: method, def };
}

/**
 * JSON args → canonical args bytes for a method: the codec's strict `fromJson`, then the method's
 * `validateBasic`. Codec errors become TX_BAD_ARGS; validateBasic keeps its own (module) code.
 */
export function encodeMethodArgs(resolved: ResolvedMethod, argsJson: unknown): Uint8Array {
  const where = `${resolved.module.name}/${resolved.name}`;
  let args: unknown;
  try {
    args = resolved.def.args.fromJson(argsJson, 'args');
  } catch (e) {
    if (e instanceof IotchainError) throw new InvalidMessageError(ERR.BAD_ARGS, `bad args for ${where}: ${e.message}`, { module: resolved.module.name, method: resolved.name });
    throw e;
  }
  try {
    resolved.def.validateBasic?.(args);
  } catch (e) {
    if (e instanceof IotchainError) throw new InvalidMessageError(e.code, `bad args for ${where}: ${e.message}`, e.data);
    throw e;
  }
  let bytes: Uint8Array;
  try {
    bytes = encode(resolved.def.args, args);
  } catch (e) {
    // fromJson accepted a value its own encoder refuses (a codec bug) or a size limit was hit.
    throw new InvalidMessageError(ERR.BAD_ARGS, `bad args for ${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (bytes.length > MAX_ARGS_BYTES) throw new InvalidMessageError(ERR.TOO_LARGE, `args for ${where} encode to ${bytes.length} bytes (limit ${MAX_ARGS_BYTES})`);
  return bytes;
}

export interface BuildModuleTxInput {
  modules: ModuleIndex;
  key: KeyPair;
  chainId: string;
  nonce: number;
  fee: bigint;
  module: string;
  method: string;
  /** JSON args as the method's codec reads them (bytes as 0x-hex, amounts as decimal strings). */
  args: unknown;
}

export interface BuiltTx {
  /** Encoded signed transaction (what tx_send takes, as 0x-hex). */
  raw: Uint8Array;
  /** Transaction id (keccak256 of the body), 0x-hex. */
  hash: string;
}

/** Resolves, validates, encodes and signs a module transaction. Throws InvalidMessageError. */
export function buildModuleTx(input: BuildModuleTxInput): BuiltTx {
  const { chainId, nonce, fee } = input;
  if (typeof chainId !== 'string' || !CHAIN_ID_RE.test(chainId)) throw new InvalidMessageError(ERR.ENCODING, `invalid chain id ${JSON.stringify(chainId)}`);
  if (!Number.isSafeInteger(nonce) || nonce < 0) throw new InvalidMessageError(ERR.BAD_NONCE, `nonce must be a non-negative integer, got ${nonce}`);
  if (typeof fee !== 'bigint' || fee < 0n || fee >= 1n << 256n) throw new InvalidMessageError(ERR.ENCODING, `fee must be a non-negative amount below 2^256`);
  const resolved = resolveMethod(input.modules, input.module, input.method);
  const args = encodeMethodArgs(resolved, input.args);
  const raw = buildTx(input.key, { chainId, nonce, moduleId: resolved.module.id, methodId: resolved.def.id, args, fee });
  if (raw.length > MAX_TX_BYTES) throw new InvalidMessageError(ERR.TOO_LARGE, `transaction is ${raw.length} bytes (limit ${MAX_TX_BYTES})`);
  return { raw, hash: decodeTx(raw).idHex };
}

// ---------------------------------------------------------------------------------------------
// Submitting one transaction and waiting for its result

export type TxOutcomeStatus = 'pending' | 'committed' | 'failed' | 'rejected';

/** What became of a transaction: sent and not waited for (pending), committed, failed in a block, or refused by the node. */
export interface TxOutcome {
  /** "module/method". */
  method: string;
  hash: string;
  status: TxOutcomeStatus;
  height: number | null;
  error: { code: string; message: string } | null;
}

/** A transaction that failed (in a block, at the node's door, or by not being committed in time). Its code is the tx's. */
export class TxFailedError extends IotchainError {
  readonly outcome: TxOutcome;
  constructor(outcome: TxOutcome) {
    const err = outcome.error ?? { code: 'TX_FAILED', message: outcome.status };
    const where = outcome.status === 'rejected' ? 'was refused by the node' : outcome.status === 'pending' ? 'is still pending' : `failed at height ${outcome.height ?? '?'}`;
    super(err.code, `${outcome.method} (tx ${outcome.hash}) ${where}: ${err.code}: ${err.message}`, { hash: outcome.hash, status: outcome.status, height: outcome.height });
    this.outcome = outcome;
  }
}

export function txSucceeded(o: TxOutcome): boolean {
  return o.status === 'committed' || (o.status === 'pending' && o.error === null);
}

/** Throws TxFailedError unless the outcome is committed (or pending without error, when not waited for). */
export function expectSuccess(o: TxOutcome): TxOutcome {
  if (!txSucceeded(o)) throw new TxFailedError(o);
  return o;
}

export const DEFAULT_TX_TIMEOUT_MS = 30_000;

export interface WaitOptions {
  /** Wait until committed or failed (default true). */
  wait?: boolean;
  /** How long to wait (default DEFAULT_TX_TIMEOUT_MS, 30 s). */
  timeoutMs?: number;
}

export interface SendOptions extends WaitOptions {
  /** Fee in base units (default 0). */
  fee?: bigint;
  /** Default: the sender's next nonce from account_get. */
  nonce?: number;
}

/** A module transaction to build and sign (buildModuleTx) before sending. */
export interface SubmitModuleTxInput extends SendOptions {
  rpc: RpcClient;
  modules: ModuleIndex;
  /** Default: the node's chain id (chain_status). */
  chainId?: string;
  key: KeyPair;
  module: string;
  method: string;
  /** JSON args as the method's codec reads them (bytes 0x-hex, amounts decimal strings). */
  args: unknown;
}

/** A transaction signed already. */
export interface SubmitSignedTxInput extends WaitOptions {
  rpc: RpcClient;
  tx: BuiltTx;
  /** "module/method", as the outcome names it. */
  method: string;
}

export type SubmitTxInput = SubmitModuleTxInput | SubmitSignedTxInput;

/**
 * Submits one transaction over JSON-RPC: builds and signs it (nonce from account_get unless given)
 * or takes one signed already, sends it and, unless `wait: false`, waits up to timeoutMs for its
 * commit. Returns what became of it. It never throws for the transaction's own failure — refused by
 * the node, failed in its block, not committed in time: that is the outcome, whose `error` carries
 * the tx's result code and message; `expectSuccess` turns it into a TxFailedError. It throws only
 * for bad args (InvalidMessageError, before anything is sent) and for an unreachable node.
 */
export async function submitTx(i: SubmitTxInput): Promise<TxOutcome> {
  const { rpc } = i;
  let method: string;
  let tx: BuiltTx;
  if ('tx' in i) {
    ({ method, tx } = i);
  } else {
    method = `${i.module}/${i.method}`;
    const chainId = i.chainId ?? (await rpc.status()).chainId;
    const nonce = i.nonce ?? (await rpc.getAccount(toHex(addressOf(i.key.type, i.key.publicKey)))).nonce;
    tx = buildModuleTx({ modules: i.modules, key: i.key, chainId, nonce, fee: i.fee ?? 0n, module: i.module, method: i.method, args: i.args });
  }
  try {
    await rpc.sendTx(tx.raw);
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    return { method, hash: tx.hash, status: 'rejected', height: null, error: { code: e.appCode ?? `RPC_${e.code}`, message: e.message } };
  }
  if (i.wait === false) return { method, hash: tx.hash, status: 'pending', height: null, error: null };
  const timeoutMs = i.timeoutMs ?? DEFAULT_TX_TIMEOUT_MS;
  let r: TxStatusJson;
  try {
    r = await rpc.waitForTx(tx.hash, { timeoutMs });
  } catch (e) {
    if (!(e instanceof RpcTimeoutError)) throw e;
    return { method, hash: tx.hash, status: 'pending', height: null, error: { code: 'TX_WAIT_TIMEOUT', message: `neither committed nor failed within ${timeoutMs} ms` } };
  }
  return r.status === 'failed'
    ? { method, hash: tx.hash, status: 'failed', height: r.height ?? null, error: r.error ? { code: r.error.code, message: r.error.message } : { code: 'TX_FAILED', message: 'failed' } }
    : { method, hash: tx.hash, status: 'committed', height: r.height ?? null, error: null };
}
