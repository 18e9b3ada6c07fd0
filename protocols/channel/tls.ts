// The TLS 1.3 adapter's one transport-specific input to the evidence: the RFC 9266 tls-exporter
// channel binding of a session (32 bytes, label EXPORTER-Channel-Binding, empty context, which in
// TLS 1.3 equals "no context"). A DTLS 1.3 adapter would supply the same value from its session.
import type { TLSSocket } from 'node:tls';
import { CHANNEL_BINDING_BYTES, CHANNEL_BINDING_LABEL } from './evidence.js';
import { CHANNEL_ERR, ChannelError } from './errors.js';

export function tlsChannelBinding(socket: TLSSocket): Uint8Array {
  const v = socket.getProtocol();
  if (v !== 'TLSv1.3') throw new ChannelError(CHANNEL_ERR.NOT_TLS13, `the session is ${v ?? 'not TLS'}, not TLS 1.3 (RFC 9266 tls-exporter needs TLS 1.3)`);
  return new Uint8Array(socket.exportKeyingMaterial(CHANNEL_BINDING_BYTES, CHANNEL_BINDING_LABEL, Buffer.alloc(0)));
}
