// The bytes that identity participants sign or hash off-chain, each behind its own domain tag.
// Pure functions: the module checks them, and clients (CLI, gateways) build them with the same code.
import { tuple, str, bytes20, bytes32, encode } from '../../lib/encoding.js';
import { concatBytes, utf8 } from '../../lib/hex.js';
import { DOMAIN, sha256 } from '../../crypto/hash.js';
import { sign, verify } from '../../crypto/sign.js';
import type { KeyPair, KeyType } from '../../crypto/keys.js';

/** Permanent tag of a name commitment. */
export const NAME_COMMIT_TAG = utf8('iotchain/identity/name-commit/v1\0');

const popTuple = tuple<[string, Uint8Array]>(str(64), bytes20);
const commitTuple = tuple<[string, string, Uint8Array, Uint8Array]>(str(64), str(253), bytes20, bytes32);

/**
 * What an online key signs to prove that its holder wants it bound to `offline` on chain `chainId`:
 * DOMAIN.popOnlineKey ‖ msgpack([chainId, offline address]). (SHA-256 is applied by the signature.)
 */
export function popMessage(chainId: string, offline: Uint8Array): Uint8Array {
  return concatBytes(DOMAIN.popOnlineKey, encode(popTuple, [chainId, offline]));
}

/** The online key's proof of possession for `offline` (64-byte low-s signature). */
export function signPop(onlineKey: Pick<KeyPair, 'type' | 'privateKey'>, chainId: string, offline: Uint8Array): Uint8Array {
  return sign(onlineKey, popMessage(chainId, offline));
}

export function verifyPop(keyType: KeyType, pub: Uint8Array, chainId: string, offline: Uint8Array, pop: Uint8Array): boolean {
  return verify(keyType, pub, popMessage(chainId, offline), pop);
}

/**
 * A name commitment: SHA-256(NAME_COMMIT_TAG ‖ msgpack([chainId, name, owner, salt])). It is stored
 * under the committer's address, and the owner is inside the hash, so a front-runner who sees a
 * commitment or its reveal can neither reuse it for himself nor reveal it for another owner.
 */
export function nameCommitment(chainId: string, name: string, owner: Uint8Array, salt: Uint8Array): Uint8Array {
  return sha256(NAME_COMMIT_TAG, encode(commitTuple, [chainId, name, owner, salt]));
}
