// `iotchain identity register | update | close | incentive | vouch | show` (SPEC §5.1). The
// transactions and their checks are in protocols/identity/client.ts, proven reads in
// protocols/channel/chainView.ts; this file reads flags and key files, and prints. Also the flag and
// printing helpers that `iotchain name …` (name.ts) shares. (Names and flags: cli/commands/identity.ts.)
import { copyFile, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidMessageError } from '../../lib/errors.js';
import { toHex } from '../../lib/hex.js';
import { addressOf, generateKeyPair, keyTypeFromName, parseAddress, toChecksumAddress, CURVE_NAMES, type KeyPair } from '../../crypto/keys.js';
import { loadKeyFile, saveKeyFile } from '../../crypto/keystore.js';
import { loadGenesis } from '../../node/config.js';
import { RpcClient } from '../../rpc/client.js';
import { IDENTITY_ERR } from '../../protocols/identity/errors.js';
import { IdentityClient, keyInfoOf, keyHistoryOf, trustInfoOf, type KeyInfo, type KeyHistoryInfo, type TrustInfo } from '../../protocols/identity/client.js';
import { expectSuccess, type SendOptions, type TxOutcome } from '../../protocols/txBuilder.js';
import { ProvenChain, anchorFromGenesis, anchorFromStatus, type TrustAnchor } from '../../protocols/channel/index.js';
import { lines, usageError, type Output } from '../output.js';
import { exists, keyDirPaths, loadKeyDir, newPassphraseFromFlags, passphraseFromFlags, type KeyRole, type PassphraseFlags } from '../keyFiles.js';
import { checkRpcUrl } from './client.js';
import { txFields, type IdentityCommandOptions } from '../commands/identity.js';

// ---------------------------------------------------------------------------------------------
// Flags shared with name.ts

export interface RpcFlags {
  rpc: string;
}

export interface KeyDirFlags extends PassphraseFlags {
  keys?: string;
}

export interface SendFlags extends RpcFlags, KeyDirFlags {
  fee: string;
  wait?: boolean;
  timeoutMs: string;
}

export interface ProveFlags extends RpcFlags {
  prove?: boolean;
  genesis?: string;
}

export function parseCount(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || Number(text) > max) throw usageError(`${flag} must be an integer in 0..${max}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A decimal amount in base units, kept as the string the module's codec reads. */
export function parseAmountFlag(text: string | undefined, flag: string): string {
  if (text === undefined) throw usageError(`missing ${flag} N`);
  if (!/^(0|[1-9][0-9]{0,77})$/.test(text)) throw usageError(`${flag} must be a decimal amount in base units, got ${JSON.stringify(text)}`);
  return text;
}

export function parseAddressFlag(text: string, what: string): Uint8Array {
  try {
    return parseAddress(text, what);
  } catch (e) {
    throw usageError(e instanceof Error ? e.message : String(e));
  }
}

export function sendOptionsOf(flags: SendFlags): SendOptions {
  return {
    fee: BigInt(parseAmountFlag(flags.fee, '--fee')),
    wait: flags.wait === true,
    timeoutMs: parseCount(flags.timeoutMs, '--timeout-ms'),
  };
}

/** Both keys of `--keys KEYDIR`, decrypted with `--passphrase-file` (or plain with `--insecure`). */
export async function loadKeysFromFlags(flags: KeyDirFlags): Promise<Record<KeyRole, KeyPair>> {
  if (flags.keys === undefined) throw usageError('missing --keys KEYDIR');
  return loadKeyDir(flags.keys, await passphraseFromFlags(flags));
}

export function rpcClientOf(url: string): RpcClient {
  return new RpcClient(checkRpcUrl(url));
}

/** Opens an identity client on `--rpc` and always closes it. */
export async function withIdentityClient<T>(flags: RpcFlags, opts: IdentityCommandOptions, body: (c: IdentityClient) => Promise<T>): Promise<T> {
  const rpc = rpcClientOf(flags.rpc);
  try {
    return await body(new IdentityClient(rpc, { modules: opts.modules, pollMs: opts.pollMs }));
  } finally {
    await rpc.close();
  }
}

/** The validator set to check proofs with: `--genesis FILE` (trusted), else the one the RPC node reports. */
export async function trustAnchorOf(rpc: RpcClient, genesis: string | undefined): Promise<TrustAnchor> {
  return genesis !== undefined ? anchorFromGenesis(await loadGenesis(genesis)) : anchorFromStatus(await rpc.status());
}

/** "yes at height H (trust: …)", as `iotchain query --prove` says it. */
export function verifiedLine(anchor: TrustAnchor, height: number, genesisFile: string | undefined): string {
  return `yes at height ${height} (trust: ${anchor.source === 'genesis-file' ? `validators of ${genesisFile ?? 'the genesis file'}` : 'validators reported by the RPC node'})`;
}

export function txLine(tx: TxOutcome): string {
  return tx.status === 'committed' ? `${tx.hash} committed at height ${tx.height ?? '?'}` : `${tx.hash} ${tx.status} (not waited for: add --wait)`;
}

const addr = (a: Uint8Array) => toChecksumAddress(a);

// ---------------------------------------------------------------------------------------------
// Commands

export interface UpdateFlags extends SendFlags {
  newOnline?: string;
  curve?: string;
  install?: boolean;
}

export interface AmountFlags extends SendFlags {
  amount?: string;
}

export interface VouchFlags extends SendFlags {
  bet?: string;
}

export async function registerCmd(out: Output, flags: SendFlags, opts: IdentityCommandOptions): Promise<void> {
  const send = sendOptionsOf(flags);
  const keys = await loadKeysFromFlags(flags);
  const offline = addressOf(keys.offline.type, keys.offline.publicKey);
  const online = addressOf(keys.online.type, keys.online.publicKey);
  const r = await withIdentityClient(flags, opts, (c) => c.register(keys, send));
  if (r.tx) expectSuccess(r.tx);
  const value = { offline: addr(offline), online: addr(online), keyType: CURVE_NAMES[keys.online.type], alreadyRegistered: r.alreadyRegistered, ...(r.tx ? txFields(r.tx) : { status: 'committed' }) };
  out.result(
    value,
    lines([
      ['identity', addr(offline)],
      ['online key', `${addr(online)} (${CURVE_NAMES[keys.online.type]})`],
      ['tx', r.tx ? txLine(r.tx) : 'none: this online key is already registered for this identity'],
    ]),
  );
}


/**
 * Makes `file` the KEYDIR's online.json; the replaced key file is kept as
 * KEYDIR/revoked/online-ADDRESS.json (signatures it made before the revocation height stay valid).
 */
async function installOnlineKey(keyDir: string, file: string, previous: KeyPair, next: KeyPair): Promise<{ installed: boolean; revokedFile: string | null }> {
  const paths = keyDirPaths(keyDir);
  const prevAddr = addressOf(previous.type, previous.publicKey);
  const nextAddr = addressOf(next.type, next.publicKey);
  if (toHex(prevAddr) === toHex(nextAddr)) return { installed: false, revokedFile: null };
  const revokedDir = join(keyDir, 'revoked');
  await mkdir(revokedDir, { recursive: true, mode: 0o700 });
  const revokedFile = join(revokedDir, `online-${addr(prevAddr)}.json`);
  const tmp = `${paths.online}.tmp-${process.pid}`;
  await copyFile(file, tmp);
  if (!(await exists(revokedFile))) await rename(paths.online, revokedFile);
  await rename(tmp, paths.online);
  return { installed: true, revokedFile };
}

export async function updateCmd(out: Output, flags: UpdateFlags, opts: IdentityCommandOptions): Promise<void> {
  if (flags.newOnline === undefined) throw usageError('missing --new-online FILE (an existing key file to use, or where to write a new one)');
  const send = sendOptionsOf(flags);
  const keys = await loadKeysFromFlags(flags);
  const keyDir = flags.keys!;
  const offline = addressOf(keys.offline.type, keys.offline.publicKey);
  const oldOnline = addressOf(keys.online.type, keys.online.publicKey);
  const generated = !(await exists(flags.newOnline));
  let next: KeyPair;
  if (generated) {
    next = generateKeyPair(flags.curve !== undefined ? keyTypeFromName(flags.curve) : keys.online.type);
    await saveKeyFile(flags.newOnline, next, await newPassphraseFromFlags(flags), { scryptN: opts.scryptN });
  } else {
    if (flags.curve !== undefined) throw usageError(`--curve is only for a new key, and ${flags.newOnline} exists`);
    next = await loadKeyFile(flags.newOnline, await passphraseFromFlags(flags));
  }
  const nextAddr = addressOf(next.type, next.publicKey);
  if (toHex(nextAddr) === toHex(oldOnline)) throw usageError(`${flags.newOnline} holds the current online key ${addr(oldOnline)}: give a new key file`);

  const r = await withIdentityClient(flags, opts, (c) => c.update(keys.offline, next, send));
  if (r.tx) expectSuccess(r.tx);
  const onChain = r.alreadyCurrent || r.tx?.status === 'committed';
  const install = onChain && flags.install !== false ? await installOnlineKey(keyDir, flags.newOnline, keys.online, next) : { installed: false, revokedFile: null };
  const revokedAt = r.tx?.height ?? null;
  out.result(
    {
      offline: addr(offline),
      online: addr(nextAddr),
      keyType: CURVE_NAMES[next.type],
      previous: addr(oldOnline),
      revokedAt,
      file: flags.newOnline,
      generated,
      alreadyCurrent: r.alreadyCurrent,
      installed: install.installed,
      revokedFile: install.revokedFile,
      ...(r.tx ? txFields(r.tx) : { status: 'committed' }),
    },
    lines([
      ['identity', addr(offline)],
      ['online key', `${addr(nextAddr)} (${CURVE_NAMES[next.type]}) in ${flags.newOnline}${generated ? ' (new)' : ''}`],
      ['replaces', `${addr(oldOnline)}${revokedAt !== null ? ` (revoked as of height ${revokedAt})` : ''}`],
      ['tx', r.tx ? txLine(r.tx) : 'none: the chain already has this key as the current one'],
      [
        'KEYDIR',
        install.installed
          ? `${keyDirPaths(keyDir).online} is now the new key; the old one is kept in ${install.revokedFile}`
          : onChain
            ? `unchanged (--no-install)`
            : `unchanged until the update is committed: run the same command with --wait to install ${flags.newOnline}`,
      ],
    ]),
  );
}

export async function closeCmd(out: Output, flags: SendFlags, opts: IdentityCommandOptions): Promise<void> {
  const send = sendOptionsOf(flags);
  const keys = await loadKeysFromFlags(flags);
  const offline = addressOf(keys.offline.type, keys.offline.publicKey);
  const tx = expectSuccess(await withIdentityClient(flags, opts, (c) => c.close(keys.offline, send)));
  out.result(
    { offline: addr(offline), closedAt: tx.height, ...txFields(tx) },
    lines([
      ['closed', `${addr(offline)}: its online key no longer signs, its names stop resolving, its certificates fail (irrevocable)`],
      ['tx', txLine(tx)],
    ]),
  );
}

export async function incentiveCmd(out: Output, flags: AmountFlags, opts: IdentityCommandOptions): Promise<void> {
  const amount = parseAmountFlag(flags.amount, '--amount');
  const send = sendOptionsOf(flags);
  const keys = await loadKeysFromFlags(flags);
  const offline = addressOf(keys.offline.type, keys.offline.publicKey);
  const tx = expectSuccess(await withIdentityClient(flags, opts, (c) => c.addIncentive(keys.offline, amount, send)));
  out.result(
    { offline: addr(offline), amount, ...txFields(tx) },
    lines([
      ['incentive', `${amount} escrowed for the vouchers of ${addr(offline)} (streamed to them pro rata)`],
      ['tx', txLine(tx)],
    ]),
  );
}

export async function vouchCmd(out: Output, target: string, flags: VouchFlags, opts: IdentityCommandOptions): Promise<void> {
  const targetAddr = parseAddressFlag(target, 'ADDR');
  const bet = parseAmountFlag(flags.bet, '--bet');
  const send = sendOptionsOf(flags);
  const keys = await loadKeysFromFlags(flags);
  const voucher = addressOf(keys.offline.type, keys.offline.publicKey);
  const r = await withIdentityClient(flags, opts, (c) => c.vouch(keys.offline, targetAddr, bet, send));
  expectSuccess(r.tx);
  out.result(
    { voucher: addr(voucher), target: r.offline, online: r.online, bet, ...txFields(r.tx) },
    lines([
      ['vouched', `${bet} staked by ${addr(voucher)} on ${r.online} (identity ${r.offline})`],
      ['tx', txLine(r.tx)],
    ]),
  );
}

export type ShowFlags = ProveFlags;

export async function showCmd(out: Output, target: string, flags: ShowFlags, opts: IdentityCommandOptions): Promise<void> {
  const a = toHex(parseAddressFlag(target, 'ADDR'));
  const rpc = rpcClientOf(flags.rpc);
  let key: KeyInfo;
  let history: KeyHistoryInfo;
  let trust: TrustInfo;
  let proof: { anchor: TrustAnchor; height: number } | undefined;
  try {
    if (flags.prove) {
      const anchor = await trustAnchorOf(rpc, flags.genesis);
      const chain = new ProvenChain(rpc, anchor, { modules: opts.modules });
      const k = await chain.query('identity/getKey', { addr: a });
      key = keyInfoOf(k.value);
      history = keyHistoryOf((await chain.query('identity/keyHistory', { addr: a })).value);
      trust = trustInfoOf((await chain.query('identity/getTrust', { addr: a })).value);
      proof = { anchor, height: k.height };
    } else {
      if (flags.genesis !== undefined) throw usageError('--genesis is only used with --prove');
      key = keyInfoOf((await rpc.query('identity/getKey', { addr: a })).value);
      history = keyHistoryOf((await rpc.query('identity/keyHistory', { addr: a })).value);
      trust = trustInfoOf((await rpc.query('identity/getTrust', { addr: a })).value);
    }
  } finally {
    await rpc.close();
  }
  if (!key.registered) throw new InvalidMessageError(IDENTITY_ERR.NOT_REGISTERED, `${toChecksumAddress(parseAddress(a))} is neither a registered identity nor one of its online keys`);
  const vouches = { stake: trust.stake, vouchers: trust.vouchers, level: trust.level, incentivePool: trust.incentivePool };
  const state = key.closed ? `closed at height ${key.closedAt ?? '?'}` : `active (registered at height ${key.registeredAt})`;
  const historyLines = history.entries.map(
    (e) => `${e.online} (${e.keyType}) heights ${e.from}..${e.to === null ? ' (current)' : `${e.to - 1} (${key.closed && e.to === key.closedAt ? 'closed' : 'revoked'} at ${e.to})`}`,
  );
  out.result(
    {
      address: a,
      ...key,
      history: history.entries,
      ...(a !== key.offline.toLowerCase() ? { queriedKeyState: trust.keyState } : {}),
      vouches,
      verified: proof !== undefined,
      ...(proof ? { height: proof.height, trust: proof.anchor.source } : {}),
    },
    lines([
      ['identity', key.offline],
      ['state', state],
      ['online', `${key.online} (${key.keyType})`],
      ...(a !== key.offline.toLowerCase() ? [['queried key', `${a}: ${trust.keyState}`] as [string, string]] : []),
      ...historyLines.map((l, i) => [i === 0 ? 'history' : '', l] as [string, string]),
      ['vouches', `stake ${trust.stake} from ${trust.vouchers} voucher(s), trust level ${trust.level}, incentive pool ${trust.incentivePool}`],
      ['verified', proof ? verifiedLine(proof.anchor, proof.height, flags.genesis) : 'no (the RPC node’s word; add --prove)'],
    ]).map((l) => (l.startsWith(':') ? ' ' + l.slice(1) : l)), // continuation lines of the history
  );
}
