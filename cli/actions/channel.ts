// `iotchain channel serve` (a gateway serving a small payload) and `iotchain channel connect`
// (a service that verifies the gateway through the chain, gets the session evidence and may vote).
// The channel itself is protocols/channel/; this file reads flags and files, and prints.
// (Names and flags: cli/commands/channel.ts.)
import { readFile } from 'node:fs/promises';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import type { Log } from '../../lib/log.js';
import { toChecksumAddress, addressOf } from '../../crypto/keys.js';
import { RpcClient } from '../../rpc/client.js';
import { defaultModules, indexModules } from '../../protocols/registry.js';
import { certificateSummary } from '../../protocols/identity/certificate.js';
import { sessionProofCodec, SCORE_ONE } from '../../protocols/reputation/index.js';
import { startGateway, connectChannel, voteDomain, ProvenChain, ChannelRefusedError, type ChannelSession, type GatewayPayload, type VoteOutcome } from '../../protocols/channel/index.js';
import { lines, usageError, type Output } from '../output.js';
import { loadKeyDir, passphraseFromFlags, type PassphraseFlags } from '../keyFiles.js';
import type { ChannelCommandOptions } from '../commands/channel.js';
import { trustAnchorFromFlags } from './cert.js';

export interface ServeFlags extends PassphraseFlags {
  name?: string;
  cert?: string;
  key?: string;
  keys?: string;
  port?: string;
  host: string;
  payloadFile?: string;
  contentType: string;
}

export interface ConnectFlags extends PassphraseFlags {
  rpc: string;
  keys?: string;
  port?: string;
  vote?: boolean;
  score: string;
  fee: string;
  genesis?: string;
  minScore: string;
  minTrust: string;
  timeoutMs: string;
}

function parsePort(text: string, flag: string, allowZero: boolean): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535 || (!allowZero && Number(text) === 0)) throw usageError(`${flag} must be a port number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (!/^-?[0-9]{1,9}$/.test(text) || Number(text) < min || Number(text) > max) throw usageError(`${flag} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InvalidMessageError(ERR.NOT_FOUND, `cannot read ${path}: ${e.code ?? e.message}`);
  });
}

/** Session lines on stderr in human mode (stdout stays the command's result). */
function stderrLog(out: Output): Log {
  const line = (m: string, o?: object) => out.io.err(o && Object.keys(o).length > 0 ? `${m} ${JSON.stringify(o)}` : m);
  return { debug() {}, info: line, warn: line, error: line };
}

function waitForStop(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export async function serveCmd(out: Output, flags: ServeFlags, opts: ChannelCommandOptions): Promise<void> {
  if (flags.name === undefined) throw usageError('missing --name NAME');
  if (flags.cert === undefined) throw usageError('missing --cert FILE');
  if (flags.key === undefined) throw usageError('missing --key FILE');
  if (flags.keys === undefined) throw usageError('missing --keys KEYDIR');
  if (flags.port === undefined) throw usageError('missing --port P');
  const port = parsePort(flags.port, '--port', true);
  const passphrase = await passphraseFromFlags(flags);
  const keys = await loadKeyDir(flags.keys, passphrase);
  const certPem = await readText(flags.cert);
  const keyPem = await readText(flags.key);
  let fixed: GatewayPayload | undefined;
  if (flags.payloadFile !== undefined) {
    const data = await readFile(flags.payloadFile).catch((e: NodeJS.ErrnoException) => {
      throw new InvalidMessageError(ERR.NOT_FOUND, `cannot read ${flags.payloadFile}: ${e.code ?? e.message}`);
    });
    fixed = { contentType: flags.contentType, data: new Uint8Array(data) };
  }
  const gw = await startGateway({
    name: flags.name,
    certPem,
    tlsKey: keyPem,
    ...(passphrase !== undefined ? { keyPassphrase: passphrase } : {}),
    onlineKey: keys.online,
    host: flags.host,
    port,
    ...(fixed ? { payload: () => fixed } : {}),
    ...(out.json ? {} : { log: stderrLog(out) }),
  });
  const s = certificateSummary(gw.certificate);
  out.result(
    { serving: true, name: gw.name, chainId: gw.chainId, host: gw.host, port: gw.port, mode: s.mode, online: s.online },
    lines([
      ['serving', `${gw.name} on ${gw.host}:${gw.port} (TLS 1.3)`],
      ['chain', gw.chainId],
      ['certificate', `${String(s.mode)}, online ${(s.online as { address: string }).address}`],
      ['stop', 'Ctrl-C'],
    ]),
  );
  opts.onServing?.(gw.port);
  await waitForStop(opts.stop);
  await gw.close();
  if (!out.json) out.io.out(`stopped after ${gw.sessions} session(s)`);
}

export async function connectCmd(out: Output, name: string, flags: ConnectFlags): Promise<void> {
  if (flags.keys === undefined) throw usageError('missing --keys KEYDIR');
  const port = flags.port === undefined ? undefined : parsePort(flags.port, '--port', false);
  const score = parseInteger(flags.score, '--score', -10_000, 10_000);
  if (score === 0) throw usageError('--score must not be 0');
  if (!/^(0|[1-9][0-9]{0,77})$/.test(flags.fee)) throw usageError(`--fee must be a decimal amount, got ${JSON.stringify(flags.fee)}`);
  const minScore = BigInt(parseInteger(flags.minScore, '--min-score', -1_000_000_000, 1_000_000_000)) * SCORE_ONE;
  const minTrustLevel = parseInteger(flags.minTrust, '--min-trust', 0, 255);
  const timeoutMs = parseInteger(flags.timeoutMs, '--timeout-ms', 1, 600_000);
  const keys = await loadKeyDir(flags.keys, await passphraseFromFlags(flags));
  const voter = addressOf(keys.offline.type, keys.offline.publicKey);
  const rpc = new RpcClient(flags.rpc);
  try {
    const anchor = await trustAnchorFromFlags(rpc, flags.genesis);
    const modules = indexModules(defaultModules());
    const chain = new ProvenChain(rpc, anchor, { modules });
    const trust = anchor.source === 'genesis-file' ? `validators of ${flags.genesis}` : 'validators reported by the RPC node (give --genesis FILE to trust a genesis file instead)';
    let session: ChannelSession;
    try {
      session = await connectChannel({ name, chain, voter, ...(port !== undefined ? { port } : {}), minScore, minTrustLevel, timeoutMs });
    } catch (e) {
      if (!(e instanceof ChannelRefusedError)) throw e;
      out.result(
        { connected: false, name, reasons: e.reasons, trust: anchor.source },
        [`refused ${name}:`, ...e.reasons.map((r) => `  ${r.code}: ${r.message}`)],
        1,
      );
      return;
    }
    let vote: VoteOutcome | undefined;
    if (flags.vote) {
      vote = await voteDomain({ rpc, chainId: anchor.chainId, modules, onlineKey: keys.online, name, score, proof: score > 0 ? session.proof : undefined, fee: BigInt(flags.fee), timeoutMs });
    }
    const text = session.payload ? new TextDecoder('utf-8', { fatal: false }).decode(session.payload.data) : null;
    const cert = certificateSummary(session.certificate);
    out.result(
      {
        connected: true,
        name,
        chainId: session.chainId,
        endpoint: session.endpoint,
        voter: toChecksumAddress(voter),
        reputation: { score: session.reputation.score.toString(), positives: session.reputation.positives, negatives: session.reputation.negatives },
        certificate: cert,
        keyState: session.facts.key.state,
        trust: anchor.source,
        proof: sessionProofCodec.toJson(session.proof),
        payload: session.payload ? { contentType: session.payload.contentType, text, base64: Buffer.from(session.payload.data).toString('base64') } : null,
        vote: vote ?? null,
      },
      lines([
        ['connected', `${name} at ${session.endpoint.host}:${session.endpoint.port} (TLS 1.3)`],
        ['certificate', `${String(cert.mode)}, online ${(cert.online as { address: string }).address}, key ${session.facts.key.state}`],
        ['reputation', `${session.reputation.score} (${session.reputation.positives}+ / ${session.reputation.negatives}-)`],
        ['evidence', 'signed by the gateway, bound to this TLS session'],
        ['trust', trust],
        ['payload', text ?? '(none)'],
        ...(vote ? [['vote', `${vote.status}${vote.height !== null ? ` at height ${vote.height}` : ''}${vote.error ? ` (${vote.error.code}: ${vote.error.message})` : ''}`] as [string, string]] : []),
      ]),
      vote && vote.status !== 'committed' ? 1 : 0,
    );
  } finally {
    await rpc.close();
  }
}
