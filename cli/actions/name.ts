// `iotchain name commit | register | renew | resolve` (SPEC §5.1 names). Commit–reveal, the salt
// file and the wait for the minimum commitment age are in protocols/identity/client.ts; proven
// reads in protocols/channel/chainView.ts. This file reads flags and prints. (Names and flags:
// cli/commands/name.ts.)
import { nameUnusableError, nameInfoOf, type NameInfo, type NameProgress } from '../../protocols/identity/client.js';
import { expectSuccess } from '../../protocols/txBuilder.js';
import { ProvenChain, type TrustAnchor } from '../../protocols/channel/index.js';
import { toHex } from '../../lib/hex.js';
import { addressOf, toChecksumAddress } from '../../crypto/keys.js';
import { lines, usageError, type Output } from '../output.js';
import { txFields, type IdentityCommandOptions } from '../commands/identity.js';
import { loadKeysFromFlags, parseAddressFlag, parseCount, rpcClientOf, sendOptionsOf, trustAnchorOf, txLine, verifiedLine, withIdentityClient, type ProveFlags, type SendFlags } from './identity.js';

export interface RegisterFlags extends SendFlags {
  ip?: string;
  periods: string;
  backup?: string;
}

export interface RenewFlags extends SendFlags {
  periods: string;
  signer: string;
}

export type ResolveFlags = ProveFlags;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** Human progress lines on stderr (nothing with --json, whose stdout is one object). */
function progressPrinter(out: Output): (p: NameProgress) => void {
  return (p) => {
    if (out.json) return;
    switch (p.step) {
      case 'resumed':
        out.io.err(`resuming commitment ${p.commitment} (${p.file}); reveal from ${iso(p.revealFrom)}`);
        break;
      case 'committing':
        out.io.err(`committing ${p.commitment} (salt kept in ${p.file})`);
        break;
      case 'committed':
        out.io.err(`committed at height ${p.height ?? '?'}; reveal from ${iso(p.revealFrom)}`);
        break;
      case 'waiting':
        out.io.err(`waiting for the minimum commitment age: block time ${iso(p.headTime)} at height ${p.height}, reveal from ${iso(p.revealFrom)}`);
        break;
      case 'revealing':
        out.io.err('revealing (submitDomainName)');
        break;
    }
  };
}

export async function commitCmd(out: Output, name: string, flags: SendFlags, opts: IdentityCommandOptions): Promise<void> {
  const send = sendOptionsOf(flags);
  const keys = await loadKeysFromFlags(flags);
  const r = await withIdentityClient(flags, opts, (c) => c.commitName({ offline: keys.offline, name, dir: flags.keys!, ...send, onProgress: progressPrinter(out) }));
  out.result(
    {
      name,
      owner: r.owner,
      commitment: r.commitment,
      file: r.file,
      resumed: r.resumed,
      revealFrom: r.window?.revealFrom ?? null,
      revealUntil: r.window?.revealUntil ?? null,
      ...(r.commitTx ? txFields(r.commitTx) : { status: 'committed', height: r.window?.height ?? null }),
    },
    lines([
      ['name', name],
      ['commitment', `${r.commitment}${r.resumed ? ' (an earlier one, still valid)' : ''}`],
      ['salt file', `${r.file} (keep it: the reveal needs it)`],
      ['tx', r.commitTx ? txLine(r.commitTx) : `none (committed earlier at height ${r.window?.height ?? '?'})`],
      ...(r.window ? [['reveal', `from ${iso(r.window.revealFrom)} until ${iso(r.window.revealUntil)}: iotchain name register ${name} --ip IP --keys ${flags.keys!}`] as [string, string]] : []),
    ]),
  );
}

export async function registerCmd(out: Output, name: string, flags: RegisterFlags, opts: IdentityCommandOptions): Promise<void> {
  if (flags.ip === undefined) throw usageError('missing --ip IP (a.b.c.d, an IPv6 address, a.b.c.d:port or [ipv6]:port)');
  const periods = parseCount(flags.periods, '--periods', 255);
  const backup = flags.backup === undefined ? undefined : toHex(parseAddressFlag(flags.backup, '--backup'));
  const send = sendOptionsOf(flags);
  const keys = await loadKeysFromFlags(flags);
  const { r, info } = await withIdentityClient(flags, opts, async (c) => {
    const r = await c.registerName({ offline: keys.offline, name, ip: flags.ip!, periods, backup, dir: flags.keys!, ...send, ageTimeoutMs: send.timeoutMs, onProgress: progressPrinter(out) });
    const info: NameInfo | undefined = r.alreadyRegistered || r.revealTx?.status === 'committed' ? await c.resolve(name) : undefined;
    return { r, info };
  });
  out.result(
    {
      name,
      ip: info?.ip ?? flags.ip,
      owner: r.owner,
      expires: info?.expires ?? null,
      alreadyRegistered: r.alreadyRegistered,
      resumed: r.resumed,
      commitment: r.commitment,
      commitTx: r.commitTx ? txFields(r.commitTx) : null,
      ...(r.revealTx ? txFields(r.revealTx) : { status: 'committed', height: info?.registeredAt ?? null }),
    },
    lines([
      ['name', `${name} → ${info?.ip ?? flags.ip}`],
      ['owner', r.owner],
      ...(info ? [['expires', iso(info.expires)] as [string, string]] : []),
      ['tx', r.revealTx ? txLine(r.revealTx) : 'none: already registered to this identity'],
    ]),
  );
}

export async function renewCmd(out: Output, name: string, flags: RenewFlags, opts: IdentityCommandOptions): Promise<void> {
  const periods = parseCount(flags.periods, '--periods', 255);
  if (flags.signer !== 'offline' && flags.signer !== 'online') throw usageError(`--signer must be offline or online, got ${JSON.stringify(flags.signer)}`);
  const send = sendOptionsOf(flags);
  const keys = await loadKeysFromFlags(flags);
  const payer = keys[flags.signer];
  const { tx, info } = await withIdentityClient(flags, opts, async (c) => {
    const tx = expectSuccess(await c.renewName(payer, name, periods, send));
    return { tx, info: tx.status === 'committed' ? await c.resolve(name) : undefined };
  });
  out.result(
    { name, periods, payer: toChecksumAddress(addressOf(payer.type, payer.publicKey)), expires: info?.expires ?? null, ...txFields(tx) },
    lines([['renewed', `${name} for ${periods} period(s)${info ? `: expires ${iso(info.expires)}` : ''}`], ['tx', txLine(tx)]]),
  );
}

export async function resolveCmd(out: Output, name: string, flags: ResolveFlags, opts: IdentityCommandOptions): Promise<void> {
  const prove = flags.prove !== false;
  if (!prove && flags.genesis !== undefined) throw usageError('--genesis is only used with proofs (drop --no-prove)');
  const rpc = rpcClientOf(flags.rpc);
  let info: NameInfo;
  let height: number;
  let anchor: TrustAnchor | undefined;
  try {
    if (prove) {
      anchor = await trustAnchorOf(rpc, flags.genesis);
      const a = await new ProvenChain(rpc, anchor, { modules: opts.modules }).query('identity/resolveAddress', { name });
      info = nameInfoOf(a.value);
      height = a.height;
    } else {
      const a = await rpc.query('identity/resolveAddress', { name });
      info = nameInfoOf(a.value);
      height = a.height;
    }
  } finally {
    await rpc.close();
  }
  const refusal = nameUnusableError(info);
  if (refusal) throw refusal;
  out.result(
    { ...info, height, verified: anchor !== undefined, ...(anchor ? { trust: anchor.source } : {}) },
    lines([
      ['name', info.name],
      ['ip', info.ip ?? '-'],
      ['owner', info.owner ?? '-'],
      ['mode', `${info.mode ?? '-'}${info.mode === 'ca' ? ` (registrar ${info.registrar ?? '?'})` : ''}`],
      ['expires', iso(info.expires)],
      ['verified', anchor ? verifiedLine(anchor, height, flags.genesis) : `no (the RPC node’s word at height ${height})`],
    ]),
  );
}
