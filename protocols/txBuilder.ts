// Building a module transaction from names and JSON args (CLI, devnet faucet, gateways, scripts).
// The inverse of what the node does on receipt: resolve "module/method" to its permanent ids, turn
// the JSON args into the method's typed args with its codec, run its stateless `validateBasic`, then
// encode the args canonically and sign the transaction body (state/tx.ts).
import { encode } from '../lib/encoding.js';
import { IotchainError, InvalidMessageError, ERR } from '../lib/errors.js';
import type { KeyPair } from '../crypto/keys.js';
import { buildTx, decodeTx, CHAIN_ID_RE, MAX_ARGS_BYTES, MAX_TX_BYTES } from '../state/tx.js';
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
