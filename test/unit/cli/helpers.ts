// Runs CLI commands in-process: a commander program with the commands a test registers (default:
// the key and client commands), output captured.
import { Command, CommanderError } from 'commander';
import { registerKeyCommands } from '../../../cli/commands/keys.js';
import { registerClientCommands } from '../../../cli/commands/client.js';
import type { CliIo } from '../../../cli/output.js';

export interface CliRun {
  out: string;
  err: string;
  exitCode: number;
  /** stdout parsed as one JSON object (throws if it is not exactly that). */
  json(): Record<string, unknown>;
}

/** Low scrypt cost so encrypted key files are quick to write in tests. */
export const TEST_SCRYPT_N = 1 << 10;

/** Registers the commands a test runs on a fresh program, with the captured io. */
export type RegisterCommands = (program: Command, io: CliIo) => void;

const keyAndClientCommands: RegisterCommands = (program, io) => {
  registerKeyCommands(program, { io, scryptN: TEST_SCRYPT_N });
  registerClientCommands(program, { io });
};

export async function runCli(args: string[], register: RegisterCommands = keyAndClientCommands): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const io: CliIo = {
    out: (s) => void out.push(s.endsWith('\n') ? s : s + '\n'),
    err: (s) => void err.push(s.endsWith('\n') ? s : s + '\n'),
    setExitCode: (c) => {
      exitCode = c;
    },
  };
  const program = new Command().name('iotchain');
  program.exitOverride();
  program.configureOutput({ writeOut: (s) => void out.push(s), writeErr: (s) => void err.push(s) });
  register(program, io);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    exitCode = e.exitCode;
  }
  const stdout = out.join('');
  return {
    out: stdout,
    err: err.join(''),
    exitCode,
    json() {
      const lines = stdout.trim().split('\n');
      if (lines.length !== 1) throw new Error(`expected one line of JSON, got ${lines.length}: ${stdout}`);
      return JSON.parse(lines[0]!) as Record<string, unknown>;
    },
  };
}
