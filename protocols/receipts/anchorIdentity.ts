// Registering the anchoring entity's online key with the identity module (SPEC §1 "Who is who"):
// storeRootHash is signed by an online key, and the chain files the anchor under the offline identity
// that registered it. `iotchain anchor run --register` calls this with the KEYDIR's two keys.
// Off-chain: the state machine never imports this file.
import { addressOf, type KeyPair } from '../../crypto/keys.js';
import { toHex } from '../../lib/hex.js';
import { ERR, InvalidMessageError } from '../../lib/errors.js';
import type { RpcClient } from '../../rpc/client.js';
import { submitTx } from '../txBuilder.js';
import { defaultModules, indexModules } from '../registry.js';
import { signPop } from '../identity/index.js';

export type RegistrationOutcome = 'registered' | 'already-registered';

/** The identity whose current online key is `online`, if any (identity module query). */
export async function identityOfOnlineKey(client: RpcClient, online: Uint8Array): Promise<string | undefined> {
  const v = (await client.query('identity/keyHistory', { addr: toHex(online) })).value as { offline?: string; entries?: { online: string; to: number | null }[] } | null;
  const current = v?.entries?.find((e) => e.online.toLowerCase() === toHex(online) && e.to === null);
  return current && v?.offline ? v.offline : undefined;
}

/** Submits identity/submitPublicKey (signed by the offline key, with the online key's proof of possession) unless already done. */
export async function ensureRegistered(client: RpcClient, keys: { online: KeyPair; offline: KeyPair }, timeoutMs = 30_000): Promise<RegistrationOutcome> {
  const online = addressOf(keys.online.type, keys.online.publicKey);
  const offline = addressOf(keys.offline.type, keys.offline.publicKey);
  const owner = await identityOfOnlineKey(client, online).catch(() => undefined);
  if (owner !== undefined) {
    if (owner.toLowerCase() !== toHex(offline)) throw new InvalidMessageError(ERR.WRONG_SIGNER, `online key ${toHex(online)} belongs to identity ${owner}, not to ${toHex(offline)}`);
    return 'already-registered';
  }
  const { chainId } = await client.status();
  const r = await submitTx({
    rpc: client,
    modules: indexModules(defaultModules()),
    key: keys.offline,
    chainId,
    module: 'identity',
    method: 'submitPublicKey',
    args: { addr: toHex(online), keyType: keys.online.type, pub: toHex(keys.online.publicKey), pop: toHex(signPop(keys.online, chainId, offline)) },
    timeoutMs,
  });
  if (r.status !== 'committed') throw new InvalidMessageError(r.error?.code ?? 'IDENTITY_REGISTER_FAILED', `registering online key ${toHex(online)}: ${r.error?.message ?? r.status}`);
  return 'registered';
}
