// `iotchain keys new` and `iotchain keys show`: what they do (their names and flags are in
// cli/commands/keys.ts, which imports this file only when one of them runs).
import { generateKeyPair, keyTypeFromName, CURVE_NAMES } from '../../crypto/keys.js';
import { loadKeyFile } from '../../crypto/keystore.js';
import { lines, usageError, type Output } from '../output.js';
import type { KeyCommandOptions } from '../commands/keys.js';
import { keyDirPaths, newPassphraseFromFlags, passphraseFromFlags, readKeyFileInfo, saveKeyDir } from '../keyFiles.js';

export interface NewFlags {
  out?: string;
  curve: string;
  passphraseFile?: string;
  insecure?: boolean;
  force?: boolean;
}

export interface ShowFlags {
  key?: string;
  passphraseFile?: string;
}

export async function keysNew(out: Output, flags: NewFlags, opts: KeyCommandOptions): Promise<void> {
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

export async function keysShow(out: Output, flags: ShowFlags): Promise<void> {
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
