// `iotchain keys new` and `iotchain keys show`.
import type { Command } from 'commander';
import { generateKeyPair, keyTypeFromName, CURVE_NAMES } from '../../crypto/keys.js';
import { loadKeyFile } from '../../crypto/keystore.js';
import { processIo, runAction, lines, usageError, type CliIo, type Output } from '../output.js';
import { keyDirPaths, newPassphraseFromFlags, passphraseFromFlags, readKeyFileInfo, saveKeyDir } from '../keyFiles.js';

export interface KeyCommandOptions {
  io?: CliIo;
  /** scrypt cost for new encrypted key files (tests pass a low one). */
  scryptN?: number;
}

interface NewFlags {
  out?: string;
  curve: string;
  passphraseFile?: string;
  insecure?: boolean;
  force?: boolean;
}

interface ShowFlags {
  key?: string;
  passphraseFile?: string;
}

async function keysNew(out: Output, flags: NewFlags, opts: KeyCommandOptions): Promise<void> {
  if (flags.out === undefined) throw usageError('missing --out DIR');
  const type = keyTypeFromName(flags.curve);
  const passphrase = await newPassphraseFromFlags(flags);
  const keys = { online: generateKeyPair(type), offline: generateKeyPair(type) };
  const files = await saveKeyDir(flags.out, keys, passphrase, { force: flags.force === true, scryptN: opts.scryptN });
  const paths = keyDirPaths(flags.out);
  out.result(
    {
      dir: flags.out,
      curve: CURVE_NAMES[type],
      encrypted: passphrase !== undefined,
      online: { address: files.online.address, file: paths.online },
      offline: { address: files.offline.address, file: paths.offline },
    },
    lines([
      ['online', `${files.online.address}  ${paths.online}`],
      ['offline', `${files.offline.address}  ${paths.offline}`],
      ['curve', CURVE_NAMES[type]],
      ['encrypted', passphrase !== undefined ? 'yes' : 'no (--insecure)'],
    ]),
  );
}

async function keysShow(out: Output, flags: ShowFlags): Promise<void> {
  if (flags.key === undefined) throw usageError('missing --key FILE');
  const info = await readKeyFileInfo(flags.key);
  let passphraseOk: boolean | null = null;
  if (flags.passphraseFile !== undefined || !info.encrypted) {
    // Decrypting proves the passphrase (or, for a plain file, that the private key matches).
    // (loadKeyFile also checks that the private key matches the file's public key and address.)
    await loadKeyFile(flags.key, await passphraseFromFlags(flags));
    passphraseOk = info.encrypted ? true : null;
  }
  out.result(
    { file: flags.key, address: info.address, curve: info.curve, publicKey: info.publicKey, encrypted: info.encrypted, passphraseOk },
    lines([
      ['address', info.address],
      ['curve', info.curve],
      ['publicKey', info.publicKey],
      ['encrypted', info.encrypted ? (passphraseOk ? 'yes (passphrase ok)' : 'yes') : 'no'],
    ]),
  );
}

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
    .action((flags: NewFlags, cmd: Command) => runAction(io, cmd, (out) => keysNew(out, flags, opts)));

  keys
    .command('show')
    .description('print the address, curve and public key of a key file (checks the passphrase if given)')
    .option('--key <file>', 'key file (required)')
    .option('--passphrase-file <file>', 'decrypt the key file to check this passphrase')
    .option('--json', 'print one JSON object')
    .action((flags: ShowFlags, cmd: Command) => runAction(io, cmd, (out) => keysShow(out, flags)));
}
