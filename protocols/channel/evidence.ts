// The session evidence of the secure channel (SPEC §5.2), independent of the transport: a TLS 1.3
// adapter (gateway.ts, client.ts) and a later DTLS 1.3 adapter both produce it from the same three
// inputs: the client's hello, the gateway's online key and the RFC 9266 channel-binding exporter
// (32 bytes of EXPORTER-Channel-Binding, empty context) of *their own* session.
//
//   client → gateway  hello    {version, chainId, name, voter, clientRandom, clientTime}
//   gateway → client  evidence SessionProof {clientRandom, serverRandom, clientTime, serverTime,
//                               exporterHash = SHA-256(exporter), signature}
// The signature is the gateway's online key over sessionProofMessage (protocols/reputation/
// sessionProof.ts: H(tag ‖ chain id ‖ name ‖ voter ‖ randoms ‖ timestamps ‖ SHA-256(exporter))),
// which the reputation module re-verifies in voteDomain. The client computes the exporter of its
// own session and never takes the gateway's word for it, so evidence made in another session
// (relayed by a man in the middle, or replayed) is refused. The raw exporter is never published.
import { randomBytes } from 'node:crypto';
import { struct, str, bytes20, bytes32, u53, u8 } from '../../lib/encoding.js';
import { bytesEqual, toHex } from '../../lib/hex.js';
import type { KeyPair, KeyType } from '../../crypto/keys.js';
import { sha256 } from '../../crypto/hash.js';
import { signSessionProof, verifySessionProof, type SessionProof } from '../reputation/index.js';
import type { CertReason } from '../identity/certificate.js';
import { CHANNEL_ERR, ChannelError } from './errors.js';

/** RFC 9266 tls-exporter channel binding: label and length. */
export const CHANNEL_BINDING_LABEL = 'EXPORTER-Channel-Binding';
export const CHANNEL_BINDING_BYTES = 32;
export const CHANNEL_PROTOCOL_VERSION = 1;
/** Default tolerated difference between the two clocks (ms). */
export const DEFAULT_MAX_SKEW_MS = 30_000;

export interface ChannelHello {
  version: number;
  chainId: string;
  name: string;
  /** The voter's offline address: the proof names it, so no other account can use it. */
  voter: Uint8Array;
  clientRandom: Uint8Array;
  /** Client's UNIX time (ms) when it drew clientRandom. */
  clientTime: number;
}

export const helloCodec = struct<ChannelHello>(
  { version: u8, chainId: str(64), name: str(253), voter: bytes20, clientRandom: bytes32, clientTime: u53 },
  ['version', 'chainId', 'name', 'voter', 'clientRandom', 'clientTime'],
);

export function createHello(chainId: string, name: string, voter: Uint8Array, now: number): ChannelHello {
  return { version: CHANNEL_PROTOCOL_VERSION, chainId, name, voter, clientRandom: new Uint8Array(randomBytes(32)), clientTime: now };
}

export interface GatewaySigner {
  chainId: string;
  name: string;
  /** The gateway's online key (registered on chain for the name's owner). */
  onlineKey: KeyPair;
}

/**
 * The gateway's side: checks the hello and signs the evidence for this session. Throws
 * ChannelError (WRONG_CHAIN, WRONG_NAME, TIME_SKEW, CHANNEL_PROTOCOL) without signing anything.
 */
export function answerHello(gw: GatewaySigner, hello: ChannelHello, exporter: Uint8Array, now: number, maxSkewMs = DEFAULT_MAX_SKEW_MS): SessionProof {
  if (hello.version !== CHANNEL_PROTOCOL_VERSION) throw new ChannelError(CHANNEL_ERR.PROTOCOL, `unsupported channel protocol version ${hello.version}`);
  if (hello.chainId !== gw.chainId) throw new ChannelError(CHANNEL_ERR.WRONG_CHAIN, `this gateway serves chain ${gw.chainId}, not ${hello.chainId}`);
  if (hello.name !== gw.name) throw new ChannelError(CHANNEL_ERR.WRONG_NAME, `this gateway is ${gw.name}, not ${hello.name}`);
  if (Math.abs(hello.clientTime - now) > maxSkewMs) throw new ChannelError(CHANNEL_ERR.TIME_SKEW, `client time is ${hello.clientTime - now} ms off this gateway's clock (limit ±${maxSkewMs})`);
  if (exporter.length !== CHANNEL_BINDING_BYTES) throw new ChannelError(CHANNEL_ERR.PROTOCOL, 'channel-binding exporter must be 32 bytes');
  return signSessionProof(gw.onlineKey, gw.chainId, gw.name, hello.voter, {
    clientRandom: hello.clientRandom,
    serverRandom: new Uint8Array(randomBytes(32)),
    clientTime: hello.clientTime,
    serverTime: now,
    exporterHash: sha256(exporter),
  });
}

export interface CheckEvidenceInput {
  hello: ChannelHello;
  proof: SessionProof;
  /** The exporter of the client's own session. */
  exporter: Uint8Array;
  /** The gateway's online key as verified through the chain. */
  gatewayKey: { keyType: KeyType; pub: Uint8Array };
  now: number;
  maxSkewMs?: number;
}

/** The client's side: every reason the evidence is not a proof of *this* session with this gateway. */
export function checkEvidence(i: CheckEvidenceInput): CertReason[] {
  const reasons: CertReason[] = [];
  const maxSkew = i.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const { hello, proof } = i;
  if (!bytesEqual(proof.clientRandom, hello.clientRandom) || proof.clientTime !== hello.clientTime) {
    reasons.push({ code: CHANNEL_ERR.EVIDENCE_MISMATCH, message: "the evidence does not carry this client's random and time" });
  }
  if (Math.abs(proof.serverTime - i.now) > maxSkew) {
    reasons.push({ code: CHANNEL_ERR.TIME_SKEW, message: `the gateway's time is ${proof.serverTime - i.now} ms off this client's clock (limit ±${maxSkew})` });
  }
  const own = sha256(i.exporter);
  if (!bytesEqual(proof.exporterHash, own)) {
    reasons.push({
      code: CHANNEL_ERR.EVIDENCE_RELAYED,
      message: `the evidence is bound to another TLS session (exporter hash ${toHex(proof.exporterHash).slice(0, 18)}… ≠ this session's ${toHex(own).slice(0, 18)}…): relayed or replayed`,
    });
  }
  if (!verifySessionProof(i.gatewayKey.keyType, i.gatewayKey.pub, hello.chainId, hello.name, hello.voter, proof)) {
    reasons.push({ code: CHANNEL_ERR.BAD_SESSION_SIGNATURE, message: "the evidence is not signed by the gateway's online key registered on chain" });
  }
  return reasons;
}
