// The secure-channel session proof (SPEC §5.2): what a gateway signs with its online key, and how
// the module and clients check it. Pure; the TLS channel library builds proofs with these.
import { tuple, str, bytes20, bytes32, u53, encode } from '../../lib/encoding.js';
import { concatBytes, utf8 } from '../../lib/hex.js';
import { sha256 } from '../../crypto/hash.js';
import { sign, verify } from '../../crypto/sign.js';
import type { KeyPair, KeyType } from '../../crypto/keys.js';
import type { SessionProof } from './types.js';
import { MAX_NAME_BYTES } from './codec.js';

/** Permanent domain tag of a session proof. */
export const SESSION_PROOF_TAG = utf8('iotchain/channel/session-proof/v1\0');

const messageTuple = tuple<[string, string, Uint8Array, Uint8Array, Uint8Array, number, number, Uint8Array]>(
  str(64),
  str(MAX_NAME_BYTES),
  bytes20,
  bytes32,
  bytes32,
  u53,
  u53,
  bytes32,
);

export type SessionEvidence = Omit<SessionProof, 'signature'>;

/**
 * The signed bytes: SESSION_PROOF_TAG ‖ msgpack([chainId, name, voter, clientRandom, serverRandom,
 * clientTime, serverTime, exporterHash]). The signature is ECDSA over SHA-256 of these bytes, so the
 * gateway signs H(tag ‖ chain id ‖ name ‖ voter ‖ randoms ‖ timestamps ‖ SHA-256(exporter)).
 * `voter` is the voter's offline identity: a proof cannot be used by another account.
 */
export function sessionProofMessage(chainId: string, name: string, voter: Uint8Array, e: SessionEvidence): Uint8Array {
  return concatBytes(
    SESSION_PROOF_TAG,
    encode(messageTuple, [chainId, name, voter, e.clientRandom, e.serverRandom, e.clientTime, e.serverTime, e.exporterHash]),
  );
}

/** SHA-256 of the raw tls-exporter value (the raw value itself is never published). */
export function exporterHash(exporter: Uint8Array): Uint8Array {
  return sha256(exporter);
}

/** The gateway side: signs the evidence with its online key. */
export function signSessionProof(gatewayOnlineKey: Pick<KeyPair, 'type' | 'privateKey'>, chainId: string, name: string, voter: Uint8Array, e: SessionEvidence): SessionProof {
  return { ...e, signature: sign(gatewayOnlineKey, sessionProofMessage(chainId, name, voter, e)) };
}

export function verifySessionProof(keyType: KeyType, pub: Uint8Array, chainId: string, name: string, voter: Uint8Array, p: SessionProof): boolean {
  return verify(keyType, pub, sessionProofMessage(chainId, name, voter, p), p.signature);
}

/** Identifies a session proof (replay guard): SHA-256 of its signed bytes. */
export function sessionProofDigest(chainId: string, name: string, voter: Uint8Array, e: SessionEvidence): Uint8Array {
  return sha256(sessionProofMessage(chainId, name, voter, e));
}
