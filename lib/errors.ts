// One error base class carrying a typed payload (STYLE.md "Names, errors, logs").
// - ProtocolError: deterministic, raised by a module handler; goes into the tx result, state reverted.
// - InvalidMessageError: malformed or unacceptable input (tx, RPC params, peer message, file); reject it.
// - InternalError: a broken invariant; halt rather than diverge.

export interface ErrorPayload {
  /** Stable machine-readable code, e.g. BANK_INSUFFICIENT_FUNDS. */
  code: string;
  /** Optional structured details (no secrets, no untrusted payloads larger than a few bytes). */
  data?: Record<string, unknown>;
}

export class IotchainError extends Error {
  readonly code: string;
  readonly data: Record<string, unknown> | undefined;
  constructor(code: string, message: string, data?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
  toJSON(): { code: string; message: string; data?: Record<string, unknown> } {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

export class ProtocolError extends IotchainError {}
export class InvalidMessageError extends IotchainError {}
export class InternalError extends IotchainError {}

/** Common codes used across layers. Module-specific codes live in each module's errors.ts. */
export const ERR = {
  ENCODING: 'ENCODING_INVALID',
  TOO_LARGE: 'TOO_LARGE',
  BAD_SIGNATURE: 'TX_BAD_SIGNATURE',
  HIGH_S: 'TX_HIGH_S_SIGNATURE',
  WRONG_CHAIN: 'TX_WRONG_CHAIN_ID',
  BAD_NONCE: 'TX_BAD_NONCE',
  FEE_TOO_LOW: 'TX_FEE_TOO_LOW',
  INSUFFICIENT_FEE_BALANCE: 'TX_INSUFFICIENT_FEE_BALANCE',
  UNKNOWN_MODULE: 'TX_UNKNOWN_MODULE',
  UNKNOWN_METHOD: 'TX_UNKNOWN_METHOD',
  BAD_ARGS: 'TX_BAD_ARGS',
  WRONG_SIGNER: 'TX_WRONG_SIGNER_KEY',
  DUPLICATE: 'TX_DUPLICATE',
  MEMPOOL_FULL: 'MEMPOOL_FULL',
  KEY_FILE: 'KEY_FILE_INVALID',
  KEY_PASSPHRASE: 'KEY_WRONG_PASSPHRASE',
  CONFIG: 'CONFIG_INVALID',
  DB_CORRUPT: 'DB_CORRUPT',
  UNKNOWN_QUERY: 'QUERY_UNKNOWN',
  NOT_FOUND: 'NOT_FOUND',
  PROOF_INVALID: 'PROOF_INVALID',
} as const;

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
