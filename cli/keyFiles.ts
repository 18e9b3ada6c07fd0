// Key files from command-line flags: `--key FILE` with `--passphrase-file F` (encrypted files) or
// `--insecure` (plain files), and a KEYDIR holding an entity's two key files, online.json and
// offline.json. Encryption and the file format live in crypto/keystore.ts.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { fromHex } from '../lib/hex.js';
import { keyTypeFromName, assertPublicKey, addressOf, toChecksumAddress, CURVE_NAMES, type CurveName, type KeyPair, type KeyType } from '../crypto/keys.js';
import { loadKeyFile, readPassphraseFile, saveKeyFile, KEY_FILE_VERSION, type KeyFile } from '../crypto/keystore.js';
import { usageError } from './output.js';

export interface PassphraseFlags {
  passphraseFile?: string;
  insecure?: boolean;
}

/**
 * The passphrase the flags give: `--passphrase-file F` → its first line; `--insecure` or neither →
 * undefined (an encrypted file then fails with a clear "give --passphrase-file"). Both → usage error.
 */
export async function passphraseFromFlags(flags: PassphraseFlags): Promise<string | undefined> {
  if (flags.passphraseFile !== undefined && flags.insecure === true) throw usageError('give either --passphrase-file or --insecure, not both');
  return flags.passphraseFile === undefined ? undefined : readPassphraseFile(flags.passphraseFile);
}

/** For writing new key files: exactly one of --passphrase-file / --insecure is required. */
export async function newPassphraseFromFlags(flags: PassphraseFlags): Promise<string | undefined> {
  if (flags.passphraseFile === undefined && flags.insecure !== true) {
    throw usageError('give --passphrase-file F to encrypt the key files, or --insecure to write them unencrypted');
  }
  return passphraseFromFlags(flags);
}

export interface KeyFlags extends PassphraseFlags {
  key?: string;
}

/** Loads the key named by `--key FILE`, decrypting it with `--passphrase-file` when it is encrypted. */
export async function loadKeyFromFlags(flags: KeyFlags): Promise<KeyPair> {
  if (flags.key === undefined) throw usageError('missing --key FILE');
  return loadKeyFile(flags.key, await passphraseFromFlags(flags));
}

/** What a key file says about itself, checked for consistency but not decrypted. */
export interface KeyFileInfo {
  path: string;
  curve: CurveName;
  address: string;
  publicKey: string;
  encrypted: boolean;
}

/**
 * Reads the public part of a key file (curve, public key, address) without decrypting it, and checks
 * that the address matches the public key. Throws KEY_FILE_INVALID.
 */
export async function readKeyFileInfo(path: string): Promise<KeyFileInfo> {
  const bad = (what: string): never => {
    throw new InvalidMessageError(ERR.KEY_FILE, `key file ${path}: ${what}`);
  };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InvalidMessageError(ERR.KEY_FILE, `cannot read key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let f: Partial<KeyFile>;
  try {
    f = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    return bad('not valid JSON');
  }
  if (typeof f !== 'object' || f === null || f.kind !== 'iotchain-key' || f.version !== KEY_FILE_VERSION) return bad(`not an iotchain key file (version ${KEY_FILE_VERSION})`);
  let type: KeyType;
  try {
    type = keyTypeFromName(String(f.curve));
  } catch {
    return bad(`unknown curve ${JSON.stringify(f.curve)}`);
  }
  let publicKey: Uint8Array;
  try {
    publicKey = fromHex(String(f.publicKey), 'publicKey', 33);
    assertPublicKey(type, publicKey);
  } catch (e) {
    return bad(e instanceof Error ? e.message : String(e));
  }
  const address = toChecksumAddress(addressOf(type, publicKey));
  if (typeof f.address !== 'string' || f.address.toLowerCase() !== address.toLowerCase()) bad('address does not match the public key');
  const encrypted = f.insecure !== true;
  if (encrypted && typeof f.crypto !== 'object') bad('neither encrypted (crypto) nor marked insecure');
  return { path, curve: CURVE_NAMES[type], address, publicKey: String(f.publicKey).toLowerCase(), encrypted };
}

// ---------------------------------------------------------------------------------------------
// KEYDIR: an entity's key set.

/** Code for refusing to overwrite a key file. */
export const KEY_FILE_EXISTS = 'KEY_FILE_EXISTS';

export const KEY_ROLES = ['online', 'offline'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export function keyDirPaths(dir: string): Record<KeyRole, string> {
  return { online: join(dir, 'online.json'), offline: join(dir, 'offline.json') };
}

/** Whether a file exists (other stat errors propagate). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export interface SaveKeyDirOptions {
  /** Overwrite existing key files. */
  force?: boolean;
  /** scrypt cost (tests use a low one). */
  scryptN?: number;
}

/**
 * Writes DIR/online.json and DIR/offline.json (encrypted with `passphrase`, or plain when undefined).
 * Refuses, before writing anything, when either file exists, unless `force`.
 */
export async function saveKeyDir(dir: string, keys: Record<KeyRole, KeyPair>, passphrase: string | undefined, opts: SaveKeyDirOptions = {}): Promise<Record<KeyRole, KeyFile>> {
  const paths = keyDirPaths(dir);
  if (!opts.force) {
    for (const role of KEY_ROLES) {
      if (await exists(paths[role])) throw new InvalidMessageError(KEY_FILE_EXISTS, `${paths[role]} already exists (use --force to overwrite it)`);
    }
  }
  const online = await saveKeyFile(paths.online, keys.online, passphrase, { scryptN: opts.scryptN });
  const offline = await saveKeyFile(paths.offline, keys.offline, passphrase, { scryptN: opts.scryptN });
  return { online, offline };
}

/** Loads both keys of a KEYDIR with one passphrase (undefined for plain files). */
export async function loadKeyDir(dir: string, passphrase: string | undefined): Promise<Record<KeyRole, KeyPair>> {
  const paths = keyDirPaths(dir);
  return { online: await loadKeyFile(paths.online, passphrase), offline: await loadKeyFile(paths.offline, passphrase) };
}
