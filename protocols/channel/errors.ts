// Errors of the secure channel. A refusal carries every reason it has (certificate, chain, evidence),
// each a stable code and a message; codes are listed in README.md.
import { InvalidMessageError } from '../../lib/errors.js';
import type { CertReason } from '../identity/certificate.js';

export type { CertReason as ChannelReason } from '../identity/certificate.js';

/** Reason codes the channel adds to the certificate's (CERT_*) and the chain's (NAME_*, KEY_*, CA_*). */
export const CHANNEL_ERR = {
  /** The whole session was refused; `data.reasons` lists why. */
  REFUSED: 'CHANNEL_REFUSED',
  REPUTATION_UNKNOWN: 'REPUTATION_UNKNOWN',
  REPUTATION_TOO_LOW: 'REPUTATION_TOO_LOW',
  NAME_UNUSABLE: 'NAME_UNUSABLE',
  ENDPOINT_INVALID: 'ENDPOINT_INVALID',
  CONNECT_FAILED: 'CONNECT_FAILED',
  NOT_TLS13: 'NOT_TLS13',
  CHAIN_ANSWER_INVALID: 'CHAIN_ANSWER_INVALID',
  CHAIN_ANSWER_STALE: 'CHAIN_ANSWER_STALE',
  GATEWAY_REFUSED: 'GATEWAY_REFUSED',
  PROTOCOL: 'CHANNEL_PROTOCOL',
  CLOSED: 'CHANNEL_CLOSED',
  TIMEOUT: 'CHANNEL_TIMEOUT',
  EVIDENCE_MISMATCH: 'EVIDENCE_MISMATCH',
  EVIDENCE_RELAYED: 'EVIDENCE_RELAYED',
  BAD_SESSION_SIGNATURE: 'BAD_SESSION_SIGNATURE',
  TIME_SKEW: 'TIME_SKEW',
  WRONG_NAME: 'WRONG_NAME',
  WRONG_CHAIN: 'WRONG_CHAIN',
  BAD_GATEWAY_SETUP: 'BAD_GATEWAY_SETUP',
} as const;

/** A protocol-level failure with one code (a frame, a timeout, a gateway's refusal). */
export class ChannelError extends InvalidMessageError {}

/** The client refused the gateway; `reasons` lists every reason found. */
export class ChannelRefusedError extends InvalidMessageError {
  readonly reasons: CertReason[];
  constructor(name: string, reasons: CertReason[]) {
    super(CHANNEL_ERR.REFUSED, `refused ${name}: ${reasons.map((r) => `${r.code}: ${r.message}`).join('; ')}`, { reasons });
    this.reasons = reasons;
  }
}
