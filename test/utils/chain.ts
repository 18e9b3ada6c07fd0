// Test helpers: deterministic keys, an in-memory chain with a single validator, tx builders.
import { sha256 } from '../../crypto/hash.js';
import { keyPairFromPrivate, KeyType, addressOf, toChecksumAddress, type KeyPair } from '../../crypto/keys.js';
import { utf8, toHex } from '../../lib/hex.js';
import { encode } from '../../lib/encoding.js';
import { MemoryKvStore, type KvStore } from '../../state/kvStore.js';
import { parseGenesis, type Genesis } from '../../state/genesis.js';
import { App } from '../../protocols/app.js';
import { defaultModules } from '../../protocols/registry.js';
import { buildTx } from '../../state/tx.js';
import { commitVoteBytes, validatorAddress, type CommitCertificate } from '../../state/block.js';
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

export function testGenesis(opts: { funded?: [KeyPair, bigint][]; minFee?: bigint; validator?: KeyPair; extra?: Record<string, unknown> } = {}): Genesis {
  const validator = opts.validator ?? testKey('validator', KeyType.p256);
  return parseGenesis({
    chainId: CHAIN_ID,
    genesisTime: GENESIS_TIME,
    validators: [{ name: 'v0', consensusKey: toHex(validator.publicKey), peerId: '', power: 1 }],
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
}

export async function testChain(opts: { funded?: [KeyPair, bigint][]; minFee?: bigint; store?: KvStore; modules?: NativeModule[]; extra?: Record<string, unknown> } = {}): Promise<TestChain> {
  const validator = testKey('validator', KeyType.p256);
  const store = opts.store ?? new MemoryKvStore();
  const clock = { now: GENESIS_TIME + 1000 };
  const genesis = testGenesis({ ...opts, validator });
  const app = await App.open({ store, genesis, modules: opts.modules ?? defaultModules(), now: () => clock.now });
  return {
    app,
    store,
    validator,
    clock,
    async block(txs) {
      clock.now += 1000;
      const info = app.info();
      const p = await app.prepareProposal({ height: info.height + 1, time: clock.now, proposer: validatorAddress(info.validators[0]!), txs });
      const cert = certify(validator, p.block.header.height, p.hash);
      return app.commit(p.block, cert);
    },
  };
}

export function certify(validator: KeyPair, height: number, hash: Uint8Array, view = 0): CommitCertificate {
  return { height, view, blockHash: hash, votes: [{ validatorIndex: 0, signature: sign(validator, commitVoteBytes(CHAIN_ID, height, view, hash)) }] };
}

export function transferTx(from: KeyPair, to: Uint8Array, amount: bigint, nonce: number, fee = 0n, chainId = CHAIN_ID): Uint8Array {
  return buildTx(from, { chainId, nonce, moduleId: 1, methodId: 1, args: encode(transferArgsCodec, { to, amount }), fee });
}
