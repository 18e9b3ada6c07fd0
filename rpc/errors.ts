// The one table that maps errors to JSON-RPC codes (STYLE.md: "rpc/ is thin … one table maps errors
// to codes"). Imported by the server, and by the client for the constants; depends on lib/ only.
//
// Rules (also in rpc/README.md):
// - The server's own validation of a request's params throws InvalidParamsError → -32602, with
//   data = {code: "RPC_INVALID_PARAMS", param}. A backend that wants -32602 throws that class too;
//   every other error a backend throws is mapped by its code, never by its class.
// - An IotchainError whose code is in APP_ERROR_CODES → that code (-32001…-32099), with
//   data = {...err.data, code: err.code}. Any other IotchainError → APP_ERROR_GENERIC (-32000).
// - InternalError, or anything that is not an IotchainError (a plain Error, a TypeError from a bug) →
//   -32603 "internal error", with no message, data or stack from the error.
import { ERR, IotchainError, InternalError, InvalidMessageError } from '../lib/errors.js';

/** JSON-RPC 2.0 standard codes. */
export const RPC_CODE = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** An IotchainError whose code is not in APP_ERROR_CODES. */
  APP_ERROR_GENERIC: -32000,
} as const;

/** Codes raised by the RPC layer itself. */
export const RPC_ERR = {
  INVALID_PARAMS: 'RPC_INVALID_PARAMS',
  TOO_MANY_SUBSCRIPTIONS: 'RPC_TOO_MANY_SUBSCRIPTIONS',
  RESPONSE_TOO_LARGE: 'RPC_RESPONSE_TOO_LARGE',
} as const;

/**
 * IotchainError code → JSON-RPC code (-32001…-32099). Numbers are permanent: clients and tools may
 * rely on them. Add new codes at the end; never renumber. Clients should prefer branching on the
 * string in `error.data.code`, which is always present for these.
 */
export const APP_ERROR_CODES: Readonly<Record<string, number>> = {
  [ERR.BAD_SIGNATURE]: -32001,
  [ERR.HIGH_S]: -32002,
  [ERR.WRONG_CHAIN]: -32003,
  [ERR.BAD_NONCE]: -32004,
  [ERR.FEE_TOO_LOW]: -32005,
  [ERR.INSUFFICIENT_FEE_BALANCE]: -32006,
  [ERR.UNKNOWN_MODULE]: -32007,
  [ERR.UNKNOWN_METHOD]: -32008,
  [ERR.BAD_ARGS]: -32009,
  [ERR.DUPLICATE]: -32010,
  [ERR.MEMPOOL_FULL]: -32011,
  [ERR.ENCODING]: -32012,
  [ERR.TOO_LARGE]: -32013,
  [ERR.UNKNOWN_QUERY]: -32014,
  [ERR.NOT_FOUND]: -32015,
  [ERR.PROOF_INVALID]: -32016,
  [ERR.WRONG_SIGNER]: -32017,
  [RPC_ERR.TOO_MANY_SUBSCRIPTIONS]: -32018,
  [RPC_ERR.RESPONSE_TOO_LARGE]: -32019,
};

/** The params of a request are missing, of the wrong type or out of range. Maps to -32602. */
export class InvalidParamsError extends InvalidMessageError {
  constructor(param: string, message: string) {
    super(RPC_ERR.INVALID_PARAMS, message, { param });
  }
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

export function rpcError(code: number, message: string, data?: Record<string, unknown>): JsonRpcErrorObject {
  return data === undefined ? { code, message } : { code, message, data };
}

/** Maps anything a method threw to the JSON-RPC error object sent to the client. */
export function toJsonRpcError(err: unknown): JsonRpcErrorObject {
  if (err instanceof IotchainError && !(err instanceof InternalError)) {
    const data = { ...(err.data ?? {}), code: err.code };
    if (err.code === RPC_ERR.INVALID_PARAMS) return rpcError(RPC_CODE.INVALID_PARAMS, err.message, data);
    return rpcError(APP_ERROR_CODES[err.code] ?? RPC_CODE.APP_ERROR_GENERIC, err.message, data);
  }
  return rpcError(RPC_CODE.INTERNAL_ERROR, 'internal error');
}

/** True when toJsonRpcError hides the error: the server logs those at error level. */
export function isInternal(err: unknown): boolean {
  return !(err instanceof IotchainError) || err instanceof InternalError;
}
