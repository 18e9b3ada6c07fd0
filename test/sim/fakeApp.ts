// A deterministic stand-in for the application: a block payload encodes (height, proposer, seed
// bytes); its hash is sha256(payload); a block is valid iff well-formed for the height it is
// executed at. node:crypto is fine here: only consensus/core must stay free of it.
import { createHash } from 'node:crypto';

const MAGIC = [0x49, 0x4f, 0x54, 0x42]; // "IOTB"
export const PAYLOAD_BYTES = 4 + 8 + 2 + 16;

export function makePayload(height: number, proposer: number, seed: Uint8Array): Uint8Array {
  const out = new Uint8Array(PAYLOAD_BYTES);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setBigUint64(4, BigInt(height));
  new DataView(out.buffer).setUint16(12, proposer);
  out.set(seed.subarray(0, 16), 14);
  return out;
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function payloadHeight(payload: Uint8Array): number | undefined {
  if (!(payload instanceof Uint8Array) || payload.length !== PAYLOAD_BYTES) return undefined;
  for (let i = 0; i < 4; i++) if (payload[i] !== MAGIC[i]) return undefined;
  return Number(new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getBigUint64(4));
}

/** processProposal of the fake application: well-formed for `height`, proposed by a validator, hash matches. */
export function isValidBlock(payload: Uint8Array, blockHash: Uint8Array, height: number, n: number): boolean {
  if (payloadHeight(payload) !== height) return false;
  const proposer = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint16(12);
  if (proposer >= n) return false;
  return Buffer.compare(sha256(payload), blockHash) === 0;
}
