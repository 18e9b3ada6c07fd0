// Shared printing for CLI commands. Human output is a few short lines on stdout; with --json a
// command prints exactly one JSON object on stdout. A user error (IotchainError, RpcError, a bad
// flag) prints `error: <message>` on stderr, or `{"error":{code,message}}` on stdout with --json,
// and sets exit code 1 — never a stack trace. Anything else is a bug: its stack goes to stderr.
import type { Command } from 'commander';
import { IotchainError, InvalidMessageError, errorMessage } from '../lib/errors.js';
import { toHex } from '../lib/hex.js';
import { RpcError, RpcTransportError, RpcTimeoutError } from '../rpc/client.js';

/** Where a command writes; tests pass a capturing one. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/** Code for errors in the command line itself (missing or conflicting flags, unparsable values). */
export const CLI_USAGE = 'CLI_USAGE';

/** A user error in the command line: printed as `error: <message>`, exit code 1. */
export function usageError(message: string): InvalidMessageError {
  return new InvalidMessageError(CLI_USAGE, message);
}

export interface ErrorInfo {
  code: string;
  message: string;
}

/** The {code, message} of a user error, or undefined for anything else (a bug). */
export function userErrorInfo(err: unknown): ErrorInfo | undefined {
  if (err instanceof IotchainError) return { code: err.code, message: err.message };
  if (err instanceof RpcError) return { code: err.appCode ?? `RPC_${err.code}`, message: err.message };
  if (err instanceof RpcTransportError) {
    const sys = systemCode(err);
    return { code: 'RPC_UNREACHABLE', message: sys && !err.message.includes(sys) ? `${err.message} (${sys})` : err.message };
  }
  if (err instanceof RpcTimeoutError) return { code: 'RPC_TIMEOUT', message: err.message };
  return undefined;
}

/** The first system error code (ECONNREFUSED, ENOTFOUND…) in an error's cause chain. */
function systemCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/** JSON.stringify that writes bigints as decimal strings and bytes as 0x-hex. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(10) : v instanceof Uint8Array ? toHex(v) : v));
}

export class Output {
  constructor(
    readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** Prints a command's result: the object with --json, else the human lines. */
  result(value: Record<string, unknown>, human: string | string[], exitCode = 0): void {
    if (this.json) this.io.out(toJsonText(value));
    else this.io.out(typeof human === 'string' ? human : human.join('\n'));
    if (exitCode !== 0) this.io.setExitCode(exitCode);
  }

  /** Reports an error and sets exit code 1. */
  error(err: unknown): void {
    const info = userErrorInfo(err);
    if (info) {
      if (this.json) this.io.out(toJsonText({ error: info }));
      else this.io.err(`error: ${info.message}`);
    } else {
      if (this.json) this.io.out(toJsonText({ error: { code: 'INTERNAL', message: errorMessage(err) } }));
      else this.io.err(`error: internal error: ${errorMessage(err)}`);
      this.io.err(err instanceof Error && err.stack ? err.stack : String(err));
    }
    this.io.setExitCode(1);
  }
}

/** Runs a command body with an Output for its --json flag (own or global) and reports any error. */
export async function runAction(io: CliIo, cmd: Command, body: (out: Output) => Promise<void>): Promise<void> {
  const out = new Output(io, cmd.optsWithGlobals<{ json?: boolean }>().json === true);
  try {
    await body(out);
  } catch (err) {
    out.error(err);
  }
}

/** Aligned `label: value` lines. */
export function lines(rows: [string, string | number | bigint][]): string[] {
  const w = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${(k + ':').padEnd(w)} ${String(v)}`);
}
