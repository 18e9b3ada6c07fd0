// The gateway server of the secure channel (SPEC §5.2) over TLS 1.3 (node:tls, minVersion TLSv1.3).
// It serves its iotchain certificate, answers each client's hello with the evidence signed by its
// online key and bound to that TLS session (evidence.ts), then serves a small payload on request.
// It checks its own certificate at start (name, chain, online key, key binding) so a misconfigured
// gateway fails loudly instead of signing evidence no client will accept.
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { bytesEqual } from '../../lib/hex.js';
import { errorMessage } from '../../lib/errors.js';
import { NO_LOG, type Log } from '../../lib/log.js';
import type { KeyPair } from '../../crypto/keys.js';
import { decodeKeyPem, encodeKeyPem, parseCertificate, verifyCertificate, type ParsedCertificate } from '../identity/certificate.js';
import type { SessionProof } from '../reputation/index.js';
import { answerHello, DEFAULT_MAX_SKEW_MS, type ChannelHello } from './evidence.js';
import { tlsChannelBinding } from './tls.js';
import { FramedChannel } from './wire.js';
import { CHANNEL_ERR, ChannelError } from './errors.js';

export interface GatewayPayload {
  contentType: string;
  data: Uint8Array;
}

export interface GatewayOptions {
  name: string;
  /** The certificate PEM (self-signed or CA-issued, from protocols/identity/certificate.ts). */
  certPem: string;
  /** The certificate's subject key: a KeyPair, or a PEM (with `keyPassphrase` if encrypted). */
  tlsKey: KeyPair | string;
  keyPassphrase?: string;
  /** The gateway's online key, whose public key the certificate names. */
  onlineKey: KeyPair;
  /** Default 127.0.0.1; give 0.0.0.0 or :: to serve other hosts. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** What a client receives after the evidence (called per session). */
  payload?: (hello: ChannelHello) => GatewayPayload | Promise<GatewayPayload>;
  now?: () => number;
  maxSkewMs?: number;
  /** How long a connection may stay silent (ms). Default 10 s. */
  idleTimeoutMs?: number;
  /** Called after each signed session (tests, metrics). */
  onSession?: (s: { hello: ChannelHello; proof: SessionProof }) => void;
  log?: Log;
}

export interface Gateway {
  readonly name: string;
  readonly chainId: string;
  readonly host: string;
  readonly port: number;
  readonly certificate: ParsedCertificate;
  /** Number of sessions whose evidence was signed. */
  readonly sessions: number;
  close(): Promise<void>;
}

const DEFAULT_PAYLOAD = (hello: ChannelHello): GatewayPayload => ({
  contentType: 'application/json',
  data: new TextEncoder().encode(JSON.stringify({ gateway: hello.name, reading: { sensor: 'temperature', celsius: 21.5 } })),
});

/** Starts the gateway; rejects with BAD_GATEWAY_SETUP listing every problem of its certificate. */
export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const now = o.now ?? Date.now;
  const tlsKey = typeof o.tlsKey === 'string' ? decodeKeyPem(o.tlsKey, o.keyPassphrase) : o.tlsKey;
  // The gateway serves the chain its certificate names.
  let named: string | undefined;
  try {
    named = parseCertificate(o.certPem).chainId;
  } catch (e) {
    throw new ChannelError(CHANNEL_ERR.BAD_GATEWAY_SETUP, `gateway ${o.name} cannot serve this certificate: ${errorMessage(e)}`);
  }
  const check = verifyCertificate(o.certPem, { now: now(), chainId: named ?? '', name: o.name });
  const cert = check.cert;
  const problems = check.reasons.map((r) => r.message);
  if (cert && cert.chainId === undefined) problems.push('the certificate names no chain');
  if (cert?.online && !(cert.online.keyType === o.onlineKey.type && bytesEqual(cert.online.pub, o.onlineKey.publicKey))) problems.push("the certificate names another online key than this gateway's");
  if (cert?.subjectKey && !bytesEqual(cert.subjectKey, tlsKey.publicKey)) problems.push("the TLS key is not the certificate's subject key");
  if (!cert || problems.length > 0) throw new ChannelError(CHANNEL_ERR.BAD_GATEWAY_SETUP, `gateway ${o.name} cannot serve this certificate: ${problems.join('; ')}`);
  const chainId = cert.chainId!;
  const maxSkewMs = o.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const idle = o.idleTimeoutMs ?? 10_000;
  const payload = o.payload ?? DEFAULT_PAYLOAD;
  const log = o.log ?? NO_LOG;
  const signer = { chainId, name: o.name, onlineKey: o.onlineKey };
  const sockets = new Set<TLSSocket>();
  let sessions = 0;

  const server: Server = createServer({ cert: o.certPem, key: encodeKeyPem(tlsKey), minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setTimeout(idle, () => socket.destroy());
    socket.on('error', () => {}); // a client vanishing mid-session is not the gateway's problem
    void serveSession(socket).catch((e: unknown) => {
      log.warn('channel session failed', { error: errorMessage(e) });
      socket.destroy();
    });
  });
  server.on('tlsClientError', () => {}); // failed handshakes (scanners, wrong versions) are ignored

  async function serveSession(socket: TLSSocket): Promise<void> {
    const ch = new FramedChannel(socket);
    const first = await ch.next(idle);
    if (first.type !== 'hello') throw new ChannelError(CHANNEL_ERR.PROTOCOL, `expected hello, got ${first.type}`);
    const exporter = tlsChannelBinding(socket);
    let proof: SessionProof;
    try {
      proof = answerHello(signer, first.hello, exporter, now(), maxSkewMs);
    } catch (e) {
      const code = e instanceof ChannelError ? e.code : CHANNEL_ERR.PROTOCOL;
      ch.send({ type: 'refused', code, message: errorMessage(e) });
      socket.end();
      return;
    }
    sessions++;
    o.onSession?.({ hello: first.hello, proof });
    log.info('channel session', { name: o.name });
    ch.send({ type: 'evidence', proof });
    const next = await ch.next(idle);
    if (next.type === 'get') {
      const p = await payload(first.hello);
      ch.send({ type: 'payload', contentType: p.contentType, data: p.data });
    }
    socket.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    name: o.name,
    chainId,
    host: addr.address,
    port: addr.port,
    certificate: cert,
    get sessions() {
      return sessions;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
