// A real in-process node (node/home.ts + node/node.ts) with the identity and reputation modules on
// fast parameters, plus typed helpers to register identities, names and certificates for the
// secure-channel tests. Everything started here is stopped in t.teardown.
import '../../../../lib/polyfill.js';
import type { Test } from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { initHome } from '../../../../node/home.js';
import { createNode, type Node } from '../../../../node/node.js';
import { paths } from '../../../../node/config.js';
import { RpcClient, type TxStatusJson } from '../../../../rpc/client.js';
import { encode } from '../../../../lib/encoding.js';
import { buildTx } from '../../../../state/tx.js';
import { addressOf, KeyType, toChecksumAddress, type KeyPair } from '../../../../crypto/keys.js';
import { testKey } from '../../../utils/chain.js';
import { argsCodecs as identityArgs } from '../../../../protocols/identity/codec.js';
import { argsCodecs as reputationArgs } from '../../../../protocols/reputation/codec.js';
import { signPop, nameCommitment, type IdentityMsgs } from '../../../../protocols/identity/index.js';
import type { ReputationMsgs } from '../../../../protocols/reputation/index.js';
import { indexModules, defaultModules, type ModuleIndex } from '../../../../protocols/registry.js';
import { ProvenChain, anchorFromGenesis } from '../../../../protocols/channel/index.js';

export const CHAIN = 'channel-test';

export interface Entity {
  label: string;
  offline: KeyPair;
  online: KeyPair;
  /** offline address */
  id: Uint8Array;
  /** online address */
  on: Uint8Array;
}

export function entity(label: string, onlineType: KeyType = KeyType.secp256k1): Entity {
  const offline = testKey(`channel/${label}/offline`);
  const online = testKey(`channel/${label}/online`, onlineType);
  return { label, offline, online, id: addressOf(offline.type, offline.publicKey), on: addressOf(online.type, online.publicKey) };
}

export const FAST_IDENTITY = {
  minCommitAgeMs: 0,
  maxCommitAgeMs: 600_000,
  namePeriodMs: 86_400_000,
  nameFeePerPeriod: '1',
  maxPeriods: 5,
  nameGraceMs: 60_000,
  minBet: '1',
  unbondingMs: 1_000,
  incentivePeriodMs: 10_000,
  closePenaltyPoints: 1,
  closePenaltyPerAmount: '1000',
  trustUnit: '100',
};

export const FAST_REPUTATION = {
  halfLifeMs: 86_400_000,
  periodMs: 86_400_000,
  maxScore: 10,
  voteFee: '1',
  negativeDeposit: '10',
  depositWindowMs: 60_000,
  proofMaxAgeMs: 600_000,
  proofMaxFutureMs: 60_000,
};

export interface TestNet {
  dir: string;
  node: Node;
  rpc: RpcClient;
  chain: ProvenChain;
  modules: ModuleIndex;
  genesisFile: string;
  /** Sends a typed transaction and waits for its result (committed or failed). */
  id<K extends keyof IdentityMsgs>(key: KeyPair, method: K, args: IdentityMsgs[K]): Promise<TxStatusJson>;
  rep<K extends keyof ReputationMsgs>(key: KeyPair, method: K, args: ReputationMsgs[K]): Promise<TxStatusJson>;
  /** submitPublicKey for the entity's online key. */
  register(e: Entity): Promise<void>;
  /** updatePublicKey to a new online key (the entity's `online` is replaced). */
  rotate(e: Entity, newOnline: KeyPair): Promise<void>;
  /** commit + reveal; by the owner (decentralized) or by `ca` (quasi-centralized). */
  registerName(owner: Entity, name: string, ip: string, ca?: Entity): Promise<void>;
}

function must(t: Test, s: TxStatusJson, what: string): void {
  if (s.status !== 'committed') t.fail(`${what}: ${s.status} ${s.error ? `${s.error.code}: ${s.error.message}` : ''}`);
}

export async function startTestNet(t: Test, o: { funded: Entity[]; cas?: Entity[] }): Promise<TestNet> {
  const dir = await mkdtemp(join(tmpdir(), 'iotchain-channel-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fund = o.funded.flatMap((e) => [e.id, e.on]).map((a) => `${toChecksumAddress(a)}=1000000`);
  await initHome({ home: dir, chainId: CHAIN, rpcPort: 0, fund });
  const genesisFile = paths(dir).genesis;
  const g = JSON.parse(await readFile(genesisFile, 'utf8')) as { modules: Record<string, unknown> };
  g.modules.identity = { cas: (o.cas ?? []).map((c) => toChecksumAddress(c.id)), params: FAST_IDENTITY };
  g.modules.reputation = { params: FAST_REPUTATION };
  await writeFile(genesisFile, JSON.stringify(g, null, 2));
  const node = await createNode({ home: dir, logger: pino({ level: 'silent' }), config: { metrics: { host: '127.0.0.1', port: -1 } } });
  await node.start();
  t.teardown(() => node.stop());
  const rpc = new RpcClient(node.rpcUrl!);
  t.teardown(() => rpc.close());
  const modules = indexModules(defaultModules());
  const chain = new ProvenChain(rpc, anchorFromGenesis(node.genesis), { modules });
  const nonces = new Map<string, number>();

  async function send(key: KeyPair, module: string, method: string, args: Uint8Array): Promise<TxStatusJson> {
    const a = toChecksumAddress(addressOf(key.type, key.publicKey));
    const nonce = nonces.get(a) ?? (await rpc.getAccount(a)).nonce;
    nonces.set(a, nonce + 1);
    const m = modules.byName.get(module)!;
    const methodId = (m.methods as Record<string, { id: number }>)[method]!.id;
    const raw = buildTx(key, { chainId: CHAIN, nonce, moduleId: m.id, methodId, args, fee: 0n });
    const { hash } = await rpc.sendTx(raw);
    return rpc.waitForTx(hash, { timeoutMs: 20_000 });
  }

  const net: TestNet = {
    dir,
    node,
    rpc,
    chain,
    modules,
    genesisFile,
    id: (key, method, args) => send(key, 'identity', method, encode(identityArgs[method], args)),
    rep: (key, method, args) => send(key, 'reputation', method, encode(reputationArgs[method], args)),
    async register(e) {
      const s = await net.id(e.offline, 'submitPublicKey', { addr: e.on, keyType: e.online.type, pub: e.online.publicKey, pop: signPop(e.online, CHAIN, e.id) });
      must(t, s, `register ${e.label}`);
    },
    async rotate(e, newOnline) {
      const on = addressOf(newOnline.type, newOnline.publicKey);
      const s = await net.id(e.offline, 'updatePublicKey', { addr: on, keyType: newOnline.type, pub: newOnline.publicKey, pop: signPop(newOnline, CHAIN, e.id) });
      must(t, s, `rotate ${e.label}`);
      e.online = newOnline;
      e.on = on;
    },
    async registerName(owner, name, ip, ca) {
      const registrar = ca ?? owner;
      const salt = new Uint8Array(randomBytes(32));
      must(t, await net.id(registrar.offline, 'commitDomainName', { commitment: nameCommitment(CHAIN, name, owner.id, salt) }), `commit ${name}`);
      must(t, await net.id(registrar.offline, 'submitDomainName', { addr: owner.id, name, ip, backup: undefined, salt, periods: 1 }), `register ${name}`);
    },
  };
  return net;
}
