// Test helpers: deterministic keys, an in-memory chain (one validator by default), tx builders.
import { sha256 } from '../../crypto/hash.js';
import { keyPairFromPrivate, KeyType, addressOf, toChecksumAddress, type KeyPair } from '../../crypto/keys.js';
import { utf8, toHex } from '../../lib/hex.js';
import { encode } from '../../lib/encoding.js';
import { MemoryKvStore, type KvStore } from '../../state/kvStore.js';
import { parseGenesis, type Genesis } from '../../state/genesis.js';
import { App } from '../../protocols/app.js';
import { defaultModules } from '../../protocols/registry.js';
import { buildTx } from '../../state/tx.js';
import { commitVoteBytes, validatorAddress, type CommitCertificate, type Validator } from '../../state/block.js';
import { sign } from '../../crypto/sign.js';
import { transferArgsCodec } from '../../protocols/bank/codec.js';
import type { NativeModule } from '../../protocols/module.js';

/** A deterministic key from a label. */
export function testKey(label: string, type: KeyType = KeyType.secp256k1): KeyPair {
  return keyPairFromPrivate(type, sha256(utf8(`iotchain-test-key/${label}`)));
}

export function addr(k: KeyPair): Uint8Array {
  return addressOf(k.type, k.publicKey);
}

export const CHAIN_ID = 'test-chain';
export const GENESIS_TIME = 1_700_000_000_000;

export function testGenesis(opts: { funded?: [KeyPair, bigint][]; minFee?: bigint; validator?: KeyPair; validators?: KeyPair[]; extra?: Record<string, unknown> } = {}): Genesis {
  const validators = opts.validators ?? [opts.validator ?? testKey('validator', KeyType.p256)];
  return parseGenesis({
    chainId: CHAIN_ID,
    genesisTime: GENESIS_TIME,
    validators: validators.map((v, i) => ({ name: `v${i}`, consensusKey: toHex(v.publicKey), peerId: validators.length > 1 ? `peer-${i}` : '', power: 1 })),
    params: { minFee: (opts.minFee ?? 0n).toString(), stateBucketBits: 8 },
    modules: {
      bank: { balances: (opts.funded ?? []).map(([k, a]) => ({ address: toChecksumAddress(addr(k)), amount: a.toString() })) },
      ...(opts.extra ?? {}),
    },
  });
}

export interface TestChain {
  app: App;
  store: KvStore;
  validator: KeyPair;
  clock: { now: number };
  /** Proposes, verifies and commits a block with these txs; returns the committed block. */
  block(txs: Uint8Array[]): ReturnType<App['commit']>;
  /** The validator set that certified block `height` (for verifying proven answers at that height). */
  validatorsAt(height: number): Validator[];
}

/**
 * An in-memory chain. `validators` (default: one) are the genesis set's consensus keys; every block
 * is certified by all members of the set in force whose keys are known (validator-set changes to
 * other keys are fine as long as the known ones keep a quorum).
 */
export async function testChain(
  opts: { funded?: [KeyPair, bigint][]; minFee?: bigint; store?: KvStore; modules?: NativeModule[]; extra?: Record<string, unknown>; validators?: KeyPair[] } = {},
): Promise<TestChain> {
  const validator = opts.validators?.[0] ?? testKey('validator', KeyType.p256);
  const store = opts.store ?? new MemoryKvStore();
  const clock = { now: GENESIS_TIME + 1000 };
  const genesis = testGenesis({ ...opts, validator });
  const app = await App.open({ store, genesis, modules: opts.modules ?? defaultModules(), now: () => clock.now });
  const known = new Map((opts.validators ?? [validator]).map((k) => [toHex(k.publicKey), k]));
  const sets = new Map<number, Validator[]>();
  return {
    app,
    store,
    validator,
    clock,
    async block(txs) {
      clock.now += 1000;
      const info = app.info();
      const height = info.height + 1;
      const p = await app.prepareProposal({ height, time: clock.now, proposer: validatorAddress(info.validators[0]!), txs });
      const signers = info.validators.flatMap((v, i) => (known.has(toHex(v.consensusKey)) ? [{ index: i, key: known.get(toHex(v.consensusKey))! }] : []));
      sets.set(height, info.validators);
      return app.commit(p.block, certifyBy(signers, height, p.hash));
    },
    validatorsAt: (height) => sets.get(height) ?? app.genesis.validators,
  };
}

/** A commit certificate signed by the given validators (index in the set, key). */
export function certifyBy(signers: { index: number; key: KeyPair }[], height: number, hash: Uint8Array, view = 0): CommitCertificate {
  return { height, view, blockHash: hash, votes: signers.map((s) => ({ validatorIndex: s.index, signature: sign(s.key, commitVoteBytes(CHAIN_ID, height, view, hash)) })) };
}

/** A 1-of-1 commit certificate (the single-validator chains of most tests). */
export function certify(validator: KeyPair, height: number, hash: Uint8Array, view = 0): CommitCertificate {
  return certifyBy([{ index: 0, key: validator }], height, hash, view);
}

export function transferTx(from: KeyPair, to: Uint8Array, amount: bigint, nonce: number, fee = 0n, chainId = CHAIN_ID): Uint8Array {
  return buildTx(from, { chainId, nonce, moduleId: 1, methodId: 1, args: encode(transferArgsCodec, { to, amount }), fee });
}
