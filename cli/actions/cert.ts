// `iotchain cert self-sign | request | issue | verify`: iotchain X.509 certificates (SPEC §5.1).
// Certificates are made and checked by protocols/identity/certificate.ts; chain facts come from
// proven queries (protocols/channel/chainView.ts). This file reads flags, files and prints.
// (Names and flags: cli/commands/cert.ts.)
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import { addressOf, toChecksumAddress, CURVE_NAMES } from '../../crypto/keys.js';
import { loadGenesis } from '../../node/config.js';
import { RpcClient } from '../../rpc/client.js';
import {
  selfSignCertificate,
  createCertificateRequest,
  issueCertificate,
  verifyCertificate,
  verifyCertificateOnChain,
  parseCertificate,
  certificateSummary,
  encodeKeyPem,
  type CertReason,
} from '../../protocols/identity/certificate.js';
import { ProvenChain, anchorFromGenesis, anchorFromStatus, type TrustAnchor } from '../../protocols/channel/index.js';
import { lines, usageError, type Output } from '../output.js';
import { exists, loadKeyDir, passphraseFromFlags, KEY_FILE_EXISTS, type PassphraseFlags } from '../keyFiles.js';

export interface ChainIdFlags {
  chainId?: string;
  genesis?: string;
  rpc: string;
}

export interface MakeFlags extends ChainIdFlags, PassphraseFlags {
  name?: string;
  keys?: string;
  out?: string;
  days: string;
  separateTlsKey?: boolean;
  force?: boolean;
}

export interface IssueFlags extends ChainIdFlags, PassphraseFlags {
  request?: string;
  keys?: string;
  out?: string;
  days: string;
  force?: boolean;
}

export interface VerifyFlags {
  cert?: string;
  name?: string;
  rpc: string;
  genesis?: string;
  chainId?: string;
  offline?: boolean;
  minTrust: string;
}

const DAY_MS = 86_400_000;

function parseCount(text: string, flag: string, max: number): number {
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) > max) throw usageError(`${flag} must be an integer in 0..${max}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The chain id: --chain-id, else the --genesis file's, else the --rpc node's. */
export async function chainIdFromFlags(flags: ChainIdFlags): Promise<string> {
  if (flags.chainId !== undefined) return flags.chainId;
  if (flags.genesis !== undefined) return (await loadGenesis(flags.genesis)).chainId;
  const rpc = new RpcClient(flags.rpc);
  try {
    return (await rpc.status()).chainId;
  } finally {
    await rpc.close();
  }
}

/** The validator set to trust: --genesis (trusted), else the RPC node's own report (trust on first use). */
export async function trustAnchorFromFlags(rpc: RpcClient, genesis: string | undefined): Promise<TrustAnchor> {
  return genesis !== undefined ? anchorFromGenesis(await loadGenesis(genesis)) : anchorFromStatus(await rpc.status());
}

/** Writes files into DIR (created), refusing to overwrite any of them unless force. */
async function writeOut(dir: string, files: Record<string, string>, force: boolean): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const paths: Record<string, string> = {};
  for (const name of Object.keys(files)) {
    paths[name] = join(dir, name);
    if (!force && (await exists(paths[name]))) throw new InvalidMessageError(KEY_FILE_EXISTS, `${paths[name]} already exists (use --force to overwrite it)`);
  }
  for (const [name, text] of Object.entries(files)) await writeFile(paths[name]!, text, { mode: name.startsWith('key') ? 0o600 : 0o644 });
  return paths;
}

function validityFlags(days: string): { notBefore: number; notAfter: number } {
  const d = parseCount(days, '--days', 3650);
  if (d === 0) throw usageError('--days must be at least 1');
  const notBefore = Date.now();
  return { notBefore, notAfter: notBefore + d * DAY_MS };
}

/** The inputs both self-sign and request need: --name, --keys (loaded), --out, the chain id. */
async function makeInputs(flags: MakeFlags) {
  if (flags.name === undefined) throw usageError('missing --name NAME');
  if (flags.keys === undefined) throw usageError('missing --keys KEYDIR');
  if (flags.out === undefined) throw usageError('missing --out DIR');
  const passphrase = await passphraseFromFlags(flags);
  const keys = await loadKeyDir(flags.keys, passphrase);
  return { name: flags.name, out: flags.out, passphrase, keys, chainId: await chainIdFromFlags(flags) };
}

export async function selfSignCmd(out: Output, flags: MakeFlags): Promise<void> {
  const { name, out: dir, passphrase, keys, chainId } = await makeInputs(flags);
  const { certPem, tlsKey } = await selfSignCertificate({ chainId, name, online: keys.online, separateTlsKey: flags.separateTlsKey === true, ...validityFlags(flags.days) });
  const paths = await writeOut(dir, { 'cert.pem': certPem, 'key.pem': encodeKeyPem(tlsKey, passphrase) }, flags.force === true);
  printMade(out, 'self-signed', certPem, paths, passphrase !== undefined);
}

function printMade(out: Output, what: string, certPem: string, paths: Record<string, string>, encrypted: boolean): void {
  const s = certificateSummary(parseCertificate(certPem));
  out.result(
    { ...s, files: paths, keyEncrypted: encrypted },
    lines([
      [what, String(s.name)],
      ['chain', String(s.chainId)],
      ['online', `${(s.online as { address: string }).address} (${(s.online as { keyType: string }).keyType})`],
      ['subject key', s.subjectKeyIsOnlineKey ? 'the online key (P-256)' : 'a P-256 TLS key bound by the online key'],
      ['valid', `${String(s.notBefore)} … ${String(s.notAfter)}`],
      ...Object.entries(paths).map(([k, v]) => [k, `${v}${k.startsWith('key') ? (encrypted ? ' (encrypted)' : ' (unencrypted)') : ''}`] as [string, string]),
    ]),
  );
}

export async function requestCmd(out: Output, flags: MakeFlags): Promise<void> {
  const { name, out: dir, passphrase, keys, chainId } = await makeInputs(flags);
  const { requestPem, tlsKey } = await createCertificateRequest({ chainId, name, online: keys.online, separateTlsKey: flags.separateTlsKey === true });
  const paths = await writeOut(dir, { 'request.pem': requestPem, 'key.pem': encodeKeyPem(tlsKey, passphrase) }, flags.force === true);
  const online = toChecksumAddress(addressOf(keys.online.type, keys.online.publicKey));
  out.result(
    { name, chainId, online, onlineKeyType: CURVE_NAMES[keys.online.type], files: paths, keyEncrypted: passphrase !== undefined },
    lines([
      ['request', name],
      ['chain', chainId],
      ['online', `${online} (${CURVE_NAMES[keys.online.type]})`],
      ...Object.entries(paths).map(([k, v]) => [k, v] as [string, string]),
      ['next', 'send request.pem to the CA: iotchain cert issue --request FILE --keys CA_KEYDIR --out DIR'],
    ]),
  );
}

export async function issueCmd(out: Output, flags: IssueFlags): Promise<void> {
  if (flags.request === undefined) throw usageError('missing --request FILE');
  if (flags.keys === undefined) throw usageError('missing --keys CA_KEYDIR');
  if (flags.out === undefined) throw usageError('missing --out DIR');
  const request = await readFile(flags.request, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InvalidMessageError(ERR.NOT_FOUND, `cannot read ${flags.request}: ${e.code ?? e.message}`);
  });
  const ca = await loadKeyDir(flags.keys, await passphraseFromFlags(flags));
  const chainId = await chainIdFromFlags(flags);
  const { certPem } = await issueCertificate({ request, chainId, caAddress: addressOf(ca.offline.type, ca.offline.publicKey), caKey: ca.online, ...validityFlags(flags.days) });
  const paths = await writeOut(flags.out, { 'cert.pem': certPem }, flags.force === true);
  printMade(out, 'issued', certPem, paths, false);
}

function reasonLines(reasons: CertReason[]): string[] {
  return reasons.map((r) => `  ${r.code}: ${r.message}`);
}

export async function verifyCmd(out: Output, flags: VerifyFlags): Promise<void> {
  if (flags.cert === undefined) throw usageError('missing --cert FILE');
  const pem = await readFile(flags.cert, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InvalidMessageError(ERR.NOT_FOUND, `cannot read ${flags.cert}: ${e.code ?? e.message}`);
  });
  const minTrustLevel = parseCount(flags.minTrust, '--min-trust', 255);
  let parsedName: string | undefined;
  let certChain: string | undefined;
  try {
    const c = parseCertificate(pem);
    parsedName = c.subjectName;
    certChain = c.chainId;
  } catch {
    // reported as CERT_MALFORMED below
  }
  const name = flags.name ?? parsedName ?? '';
  const now = Date.now();
  if (flags.offline) {
    const chainId = flags.chainId ?? (flags.genesis !== undefined ? (await loadGenesis(flags.genesis)).chainId : (certChain ?? ''));
    const r = verifyCertificate(pem, { now, chainId, name });
    const summary = r.cert ? certificateSummary(r.cert) : null;
    out.result(
      { valid: r.valid, reasons: r.reasons, certificate: summary, chain: null, caSignature: r.caSignature },
      [`${r.valid ? 'valid' : 'INVALID'} (X.509 checks only${r.caSignature === 'skipped' ? "; the CA's signature needs the chain: drop --offline" : ''})`, ...reasonLines(r.reasons)],
      r.valid ? 0 : 1,
    );
    return;
  }
  const rpc = new RpcClient(flags.rpc);
  try {
    const anchor = await trustAnchorFromFlags(rpc, flags.genesis);
    if (flags.chainId !== undefined && flags.chainId !== anchor.chainId) throw usageError(`--chain-id ${flags.chainId} differs from the trusted chain ${anchor.chainId}`);
    const chain = new ProvenChain(rpc, anchor);
    const v = await verifyCertificateOnChain(pem, chain.certificateFacts, { now, chainId: anchor.chainId, name, minTrustLevel });
    out.result(
      {
        valid: v.valid,
        reasons: v.reasons,
        certificate: v.cert ? certificateSummary(v.cert) : null,
        chain: v.facts ? { chainId: anchor.chainId, time: v.facts.time, trust: anchor.source, keyState: v.facts.key.state, nameState: v.facts.name.state, trustLevel: v.facts.trust?.level ?? 0 } : null,
      },
      [
        `${v.valid ? 'valid' : 'INVALID'}: ${name} on chain ${anchor.chainId} (proven; trust: ${anchor.source === 'genesis-file' ? `validators of ${flags.genesis}` : 'validators reported by the RPC node'})`,
        ...reasonLines(v.reasons),
      ],
      v.valid ? 0 : 1,
    );
  } finally {
    await rpc.close();
  }
}
