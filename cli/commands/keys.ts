// `iotchain keys new` and `iotchain keys show`: names, flags and help. What they do is in
// cli/actions/keys.ts, imported only when one of them runs (so `--help` stays fast).
import type { Command } from 'commander';
import { processIo, runAction, type CliIo } from '../output.js';
import type { NewFlags, ShowFlags } from '../actions/keys.js';

export interface KeyCommandOptions {
  io?: CliIo;
  /** scrypt cost for new encrypted key files (tests pass a low one). */
  scryptN?: number;
}

const actions = () => import('../actions/keys.js');

export function registerKeyCommands(program: Command, opts: KeyCommandOptions = {}): void {
  const io = opts.io ?? processIo;
  const keys = program.command('keys').description('create and inspect key files (an online and an offline key pair per entity)');

  keys
    .command('new')
    .description('write DIR/online.json and DIR/offline.json and print both addresses')
    .option('--out <dir>', 'directory for the key files (required)')
    .option('--curve <curve>', 'secp256k1 or p256', 'secp256k1')
    .option('--passphrase-file <file>', 'encrypt the key files with the first line of this file')
    .option('--insecure', 'write the key files unencrypted')
    .option('--force', 'overwrite existing key files')
    .option('--json', 'print one JSON object')
    .action((flags: NewFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).keysNew(out, flags, opts)));

  keys
    .command('show')
    .description('print the address, curve and public key of a key file (checks the passphrase if given)')
    .option('--key <file>', 'key file (required)')
    .option('--passphrase-file <file>', 'decrypt the key file to check this passphrase')
    .option('--json', 'print one JSON object')
    .action((flags: ShowFlags, cmd: Command) => runAction(io, cmd, async (out) => (await actions()).keysShow(out, flags)));
}
