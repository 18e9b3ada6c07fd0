// The secure channel (SPEC §5.2): an off-chain library for a TLS 1.3 gateway server and a service
// client that verifies the gateway through the chain and obtains session evidence for voteDomain.
// The state machine never imports this folder.
export { startGateway, type Gateway, type GatewayOptions, type GatewayPayload } from './gateway.js';
export { connectChannel, voteDomain, DEFAULT_CHANNEL_PORT, type ConnectOptions, type ChannelSession, type VoteInput, type VoteOutcome } from './client.js';
export { ProvenChain, anchorFromGenesis, anchorFromStatus, DEFAULT_MAX_ANSWER_AGE_MS, type TrustAnchor, type ProvenAnswer, type ProvenChainOptions } from './chainView.js';
export {
  createHello,
  answerHello,
  checkEvidence,
  helloCodec,
  CHANNEL_BINDING_LABEL,
  CHANNEL_BINDING_BYTES,
  CHANNEL_PROTOCOL_VERSION,
  DEFAULT_MAX_SKEW_MS,
  type ChannelHello,
  type GatewaySigner,
  type CheckEvidenceInput,
} from './evidence.js';
export { tlsChannelBinding } from './tls.js';
export { FramedChannel, encodeMessage, decodeMessage, MAX_FRAME_BYTES, type ChannelMessage } from './wire.js';
export { CHANNEL_ERR, ChannelError, ChannelRefusedError, type ChannelReason } from './errors.js';
