// Key files (SPEC §1): encrypted at rest with a passphrase — scrypt + AES-256-GCM, like an Ethereum
// keystore — or, as an explicit choice, plain (`insecure: true`). A wrong passphrase or a corrupt file
// gives a clear InvalidMessageError; nothing is half-written (write to a temp file, then rename).
import { randomBytes, scrypt as scryptCb, createCipheriv, createDecipheriv } from 'node:crypto';
import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { toHex, fromHex, bytesEqual } from '../lib/hex.js';
import { KeyType, CURVE_NAMES, keyTypeFromName, keyPairFromPrivate, addressOf, toChecksumAddress, type KeyPair } from './keys.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

export const KEY_FILE_VERSION = 1;
/** scrypt cost; 2^15 takes ~100 ms here. Tests may pass a lower N. */
export const DEFAULT_SCRYPT_N = 1 << 15;

export interface KeyFile {
  version: 1;
  kind: 'iotchain-key';
  curve: 'secp256k1' | 'p256';
  address: string;
  publicKey: string;
  insecure?: true;
  privateKey?: string;
  crypto?: {
    kdf: 'scrypt';
    kdfparams: { n: number; r: number; p: number; dklen: 32; salt: string };
    cipher: 'aes-256-gcm';
    iv: string;
    ciphertext: string;
    tag: string;
  };
}

export async function encryptKey(key: KeyPair, passphrase: string | undefined, opts: { scryptN?: number } = {}): Promise<KeyFile> {
  const base = {
    version: KEY_FILE_VERSION,
    kind: 'iotchain-key',
    curve: CURVE_NAMES[key.type],
    address: toChecksumAddress(addressOf(key.type, key.publicKey)),
    publicKey: toHex(key.publicKey),
  } as const;
  if (passphrase === undefined) return { ...base, insecure: true, privateKey: toHex(key.privateKey) };
  if (passphrase.length === 0) throw new InvalidMessageError(ERR.KEY_FILE, 'empty passphrase: use --insecure for a plain key file');
  const salt = randomBytes(32);
  const n = opts.scryptN ?? DEFAULT_SCRYPT_N;
  const dk = await scrypt(passphrase, salt, 32, { N: n, r: 8, p: 1, maxmem: 256 * n * 8 * 2 });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dk, iv);
  cipher.setAAD(Buffer.from(base.address));
  const ciphertext = Buffer.concat([cipher.update(key.privateKey), cipher.final()]);
  return {
    ...base,
    crypto: {
      kdf: 'scrypt',
      kdfparams: { n, r: 8, p: 1, dklen: 32, salt: toHex(salt) },
      cipher: 'aes-256-gcm',
      iv: toHex(iv),
      ciphertext: toHex(ciphertext),
      tag: toHex(cipher.getAuthTag()),
    },
  };
}

function bad(path: string, what: string): never {
  throw new InvalidMessageError(ERR.KEY_FILE, `key file ${path}: ${what}`);
}

/** Parses and decrypts a key file's JSON text. `passphrase` is required unless the file is insecure. */
export async function decryptKey(text: string, passphrase: string | undefined, path = '(key)'): Promise<KeyPair> {
  let f: KeyFile;
  try {
    f = JSON.parse(text) as KeyFile;
  } catch {
    return bad(path, 'not valid JSON');
  }
  if (typeof f !== 'object' || f === null || f.kind !== 'iotchain-key' || f.version !== KEY_FILE_VERSION) bad(path, 'not an iotchain key file (version 1)');
  let type: KeyType;
  try {
    type = keyTypeFromName(String(f.curve));
  } catch {
    return bad(path, `unknown curve ${JSON.stringify(f.curve)}`);
  }
  let priv: Uint8Array;
  if (f.insecure === true) {
    if (typeof f.privateKey !== 'string') bad(path, 'insecure key file without privateKey');
    try {
      priv = fromHex(f.privateKey, 'privateKey', 32);
    } catch {
      return bad(path, 'privateKey must be 32 bytes of 0x-hex');
    }
  } else {
    const c = f.crypto;
    if (!c || c.kdf !== 'scrypt' || c.cipher !== 'aes-256-gcm' || !c.kdfparams) bad(path, 'missing or unsupported crypto section');
    if (passphrase === undefined) throw new InvalidMessageError(ERR.KEY_PASSPHRASE, `key file ${path} is encrypted: give --passphrase-file`);
    const { n, r, p, salt } = c.kdfparams;
    if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 1 << 20 || (n & (n - 1)) !== 0 || r > 16 || p > 4) bad(path, 'unacceptable scrypt parameters');
    let dk: Buffer;
    let iv: Uint8Array, ct: Uint8Array, tag: Uint8Array, saltB: Uint8Array;
    try {
      saltB = fromHex(salt, 'salt');
      iv = fromHex(c.iv, 'iv', 12);
      ct = fromHex(c.ciphertext, 'ciphertext', 32);
      tag = fromHex(c.tag, 'tag', 16);
    } catch (e) {
      return bad(path, (e as Error).message);
    }
    dk = await scrypt(passphrase, Buffer.from(saltB), 32, { N: n, r, p, maxmem: 256 * n * r * 2 });
    try {
      const d = createDecipheriv('aes-256-gcm', dk, iv);
      d.setAAD(Buffer.from(String(f.address)));
      d.setAuthTag(tag);
      priv = new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
    } catch {
      throw new InvalidMessageError(ERR.KEY_PASSPHRASE, `key file ${path}: wrong passphrase (or the file was modified)`);
    }
  }
  const key = keyPairFromPrivate(type, priv);
  if (typeof f.publicKey === 'string' && !bytesEqual(fromHex(f.publicKey, 'publicKey'), key.publicKey)) bad(path, 'publicKey does not match the private key');
  if (typeof f.address === 'string' && f.address.toLowerCase() !== toChecksumAddress(addressOf(type, key.publicKey)).toLowerCase()) {
    bad(path, 'address does not match the private key');
  }
  return key;
}

export async function saveKeyFile(path: string, key: KeyPair, passphrase: string | undefined, opts: { scryptN?: number } = {}): Promise<KeyFile> {
  const file = await encryptKey(key, passphrase, opts);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
  return file;
}

export async function loadKeyFile(path: string, passphrase: string | undefined): Promise<KeyPair> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InvalidMessageError(ERR.KEY_FILE, `cannot read key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return decryptKey(text, passphrase, path);
}

/** Reads a passphrase file (first line, without the trailing newline). */
export async function readPassphraseFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InvalidMessageError(ERR.KEY_FILE, `cannot read passphrase file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line.length === 0) throw new InvalidMessageError(ERR.KEY_FILE, `passphrase file ${path} is empty`);
  return line;
}
