// The service client of the secure channel (SPEC §5.2, paper §3.2.2 steps 1–9):
//   1. getReputation(name), proven: refuse a gateway below the required score;
//   2. resolveAddress(name), proven: the IP comes from the chain, never from DNS or the RPC node's word;
//   3. TLS 1.3 to that address; the gateway's certificate is checked through the chain
//      (certificateFacts, proven) and not against any system CA bundle;
//   4. hello (client random + time, voter) → evidence signed by the gateway's online key and bound
//      to this session's RFC 9266 exporter; checked;
//   5. the payload;
//   9. afterwards, voteDomain(name, score, proof) with the evidence as proof.
// Every refusal is a ChannelRefusedError listing all its reasons.
import { connect, type TLSSocket } from 'node:tls';
import { IotchainError } from '../../lib/errors.js';
import type { KeyPair } from '../../crypto/keys.js';
import type { RpcClient } from '../../rpc/client.js';
import { parseEndpoint } from '../identity/syntax.js';
import { verifyCertificateOnChain, type CertReason, type CertificateChainFacts, type CertificateVerdict, type ParsedCertificate } from '../identity/certificate.js';
import { sessionProofCodec, type SessionProof } from '../reputation/index.js';
import { submitTx, type SendOptions, type TxOutcome } from '../txBuilder.js';
import type { ModuleIndex } from '../registry.js';
import { checkEvidence, createHello, type ChannelHello } from './evidence.js';
import { FramedChannel, type ChannelMessage } from './wire.js';
import { tlsChannelBinding } from './tls.js';
import type { ProvenChain } from './chainView.js';
import { CHANNEL_ERR, ChannelError, ChannelRefusedError } from './errors.js';

/** Port used when the registered address carries none and the caller gives none. */
export const DEFAULT_CHANNEL_PORT = 8443;

export interface ConnectOptions {
  name: string;
  chain: ProvenChain;
  /** The client's offline address: the evidence names it as the voter. */
  voter: Uint8Array;
  /** Port to use when the registered address has none (default DEFAULT_CHANNEL_PORT). */
  port?: number;
  /** Least reputation score P − N, fixed point (SCORE_ONE per point). Default 0: refuse negative scores. */
  minScore?: bigint;
  /** Least web-of-trust level of a self-signed certificate. Default 0. */
  minTrustLevel?: number;
  /** Ask for the payload after the evidence checks out. Default true. */
  fetchPayload?: boolean;
  now?: () => number;
  /** Per step (connect, each message). Default 10 s. */
  timeoutMs?: number;
  maxSkewMs?: number;
}

export interface ChannelSession {
  name: string;
  chainId: string;
  endpoint: { host: string; port: number };
  reputation: { score: bigint; positives: number; negatives: number; height: number };
  certificate: ParsedCertificate;
  facts: CertificateChainFacts;
  hello: ChannelHello;
  /** The gateway's evidence: the proof for voteDomain. */
  proof: SessionProof;
  payload: { contentType: string; data: Uint8Array } | undefined;
}

function reason(code: string, message: string): CertReason {
  return { code, message };
}

function refuse(name: string, ...reasons: CertReason[]): never {
  throw new ChannelRefusedError(name, reasons);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A proven query, with a chain failure turned into a refusal. */
async function proven(name: string, chain: ProvenChain, path: string, args: Record<string, unknown>): Promise<{ value: Record<string, unknown>; height: number }> {
  try {
    const a = await chain.query(path, args);
    if (!isObj(a.value)) throw new ChannelError(CHANNEL_ERR.CHAIN_ANSWER_INVALID, `${path}: unexpected answer`);
    return { value: a.value, height: a.height };
  } catch (e) {
    if (e instanceof IotchainError) refuse(name, reason(e.code, e.message));
    throw e;
  }
}

function tlsConnect(host: string, port: number, servername: string, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // The certificate is verified through the chain below, not against a system CA bundle, so
    // OpenSSL's chain validation is off; TLS 1.3 still proves that the server holds the
    // certificate's key (CertificateVerify).
    const socket = connect({ host, port, servername, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ChannelError(CHANNEL_ERR.CONNECT_FAILED, `no TLS 1.3 handshake with ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new ChannelError(CHANNEL_ERR.CONNECT_FAILED, `cannot open TLS 1.3 to ${host}:${port}: ${e.message}`));
    });
  });
}

/** Runs steps 1–5. Resolves with the session (and its proof) or rejects with ChannelRefusedError. */
export async function connectChannel(o: ConnectOptions): Promise<ChannelSession> {
  const now = o.now ?? Date.now;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const name = o.name;
  const chain = o.chain;

  // 1. reputation
  const rep = await proven(name, chain, 'reputation/getReputation', { name });
  if (rep.value.found !== true) refuse(name, reason(CHANNEL_ERR.REPUTATION_UNKNOWN, `name ${name} has no owner on chain (${String(rep.value.nameState)})`));
  const scoreText = String(rep.value.score);
  if (!/^-?[0-9]+$/.test(scoreText)) refuse(name, reason(CHANNEL_ERR.CHAIN_ANSWER_INVALID, 'reputation score is not an integer'));
  const score = BigInt(scoreText);
  const minScore = o.minScore ?? 0n;
  if (score < minScore) refuse(name, reason(CHANNEL_ERR.REPUTATION_TOO_LOW, `reputation of ${name} is ${String(rep.value.scoreDecimal ?? scoreText)}, below the required minimum`));
  const reputation = { score, positives: Number(rep.value.positives ?? 0), negatives: Number(rep.value.negatives ?? 0), height: rep.height };

  // 2. resolve
  const res = await proven(name, chain, 'identity/resolveAddress', { name });
  if (res.value.resolved !== true || typeof res.value.ip !== 'string') {
    const state = String(res.value.state);
    const code = state === 'owner-closed' ? 'NAME_OWNER_CLOSED' : state === 'expired' ? 'NAME_EXPIRED' : state === 'unregistered' || state === 'free' ? 'NAME_NOT_REGISTERED' : CHANNEL_ERR.NAME_UNUSABLE;
    refuse(name, reason(code, `name ${name} does not resolve on chain (${state}${state === 'owner-closed' ? ': its owner closed its key' : ''})`));
  }
  const ep = parseEndpoint(res.value.ip);
  if (!ep) refuse(name, reason(CHANNEL_ERR.ENDPOINT_INVALID, `the registered address ${JSON.stringify(res.value.ip)} is not an IP endpoint`));
  const endpoint = { host: ep.host, port: ep.port ?? o.port ?? DEFAULT_CHANNEL_PORT };

  // 3. TLS 1.3 and the certificate through the chain
  let socket: TLSSocket;
  try {
    socket = await tlsConnect(endpoint.host, endpoint.port, name, timeoutMs);
  } catch (e) {
    if (e instanceof ChannelError) refuse(name, reason(e.code, e.message));
    throw e;
  }
  try {
    const der = socket.getPeerX509Certificate()?.raw;
    if (!der) refuse(name, reason('CERT_MALFORMED', 'the gateway presented no certificate'));
    let verdict: CertificateVerdict;
    try {
      verdict = await verifyCertificateOnChain(new Uint8Array(der), chain.certificateFacts, { now: now(), chainId: chain.chainId, name, minTrustLevel: o.minTrustLevel ?? 0 });
    } catch (e) {
      if (e instanceof IotchainError) refuse(name, reason(e.code, e.message));
      throw e;
    }
    if (!verdict.valid || !verdict.cert?.online || !verdict.facts) refuse(name, ...verdict.reasons);
    const cert = verdict.cert;
    const online = cert.online!;

    // 4. evidence bound to this session
    const exporter = tlsChannelBinding(socket);
    const ch = new FramedChannel(socket);
    const hello = createHello(chain.chainId, name, o.voter, now());
    ch.send({ type: 'hello', hello });
    let msg: ChannelMessage;
    try {
      msg = await ch.next(timeoutMs);
    } catch (e) {
      if (e instanceof ChannelError) refuse(name, reason(e.code, e.message));
      throw e;
    }
    if (msg.type === 'refused') refuse(name, reason(CHANNEL_ERR.GATEWAY_REFUSED, `the gateway refused: ${msg.code}: ${msg.message}`));
    if (msg.type !== 'evidence') refuse(name, reason(CHANNEL_ERR.PROTOCOL, `expected evidence, got ${msg.type}`));
    const proof = msg.proof;
    const bad = checkEvidence({ hello, proof, exporter, gatewayKey: { keyType: online.keyType, pub: online.pub }, now: now(), ...(o.maxSkewMs !== undefined ? { maxSkewMs: o.maxSkewMs } : {}) });
    if (bad.length > 0) refuse(name, ...bad);

    // 5. payload
    let payload: ChannelSession['payload'];
    if (o.fetchPayload !== false) {
      ch.send({ type: 'get' });
      try {
        const p = await ch.next(timeoutMs);
        if (p.type === 'payload') payload = { contentType: p.contentType, data: p.data };
      } catch (e) {
        if (!(e instanceof ChannelError)) throw e; // the proof stands even if the payload does not arrive
      }
    }
    return { name, chainId: chain.chainId, endpoint, reputation, certificate: cert, facts: verdict.facts, hello, proof, payload };
  } finally {
    socket.end();
    socket.destroy();
  }
}

export interface VoteInput extends SendOptions {
  rpc: RpcClient;
  chainId: string;
  modules: ModuleIndex;
  /** The voter's online key (voteDomain is signed by the online key; the voter is its offline identity). */
  onlineKey: KeyPair;
  name: string;
  /** Positive with a proof; negative without one (a deposit is escrowed instead). */
  score: number;
  proof: SessionProof | undefined;
}

export type VoteOutcome = TxOutcome;

/** Step 9: voteDomain(name, score, proof), signed by the voter's online key (sent by protocols/txBuilder.ts submitTx). */
export function voteDomain(v: VoteInput): Promise<VoteOutcome> {
  const args = { name: v.name, score: v.score, proof: v.proof ? sessionProofCodec.toJson(v.proof) : null };
  return submitTx({
    rpc: v.rpc,
    modules: v.modules,
    chainId: v.chainId,
    key: v.onlineKey,
    module: 'reputation',
    method: 'voteDomain',
    args,
    ...(v.fee !== undefined ? { fee: v.fee } : {}),
    ...(v.nonce !== undefined ? { nonce: v.nonce } : {}),
    ...(v.wait !== undefined ? { wait: v.wait } : {}),
    ...(v.timeoutMs !== undefined ? { timeoutMs: v.timeoutMs } : {}),
  });
}
