// Shared by the receipts tests: a real single-validator node in-process (RPC on a free port), an
// entity's online/offline keys with the online key registered, temporary folders; all stopped or
// removed in t.teardown.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { initHome } from '../../../../node/home.js';
import { createNode, type Node } from '../../../../node/node.js';
import { paths } from '../../../../node/config.js';
import { RpcClient } from '../../../../rpc/client.js';
import { sha256 } from '../../../../crypto/hash.js';
import { KeyType, addressOf, keyPairFromPrivate, type KeyPair } from '../../../../crypto/keys.js';
import { utf8 } from '../../../../lib/hex.js';
import { ensureRegistered } from '../../../../protocols/receipts/anchorIdentity.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function tempDir(t: Teardown, prefix = 'iotchain-receipts-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface Entity {
  online: KeyPair;
  offline: KeyPair;
  identity: Uint8Array;
}

/** Deterministic P-256 keys for a label. */
export function entity(label: string): Entity {
  const online = keyPairFromPrivate(KeyType.p256, sha256(utf8(`iotchain receipts test/${label}/online`)));
  const offline = keyPairFromPrivate(KeyType.p256, sha256(utf8(`iotchain receipts test/${label}/offline`)));
  return { online, offline, identity: addressOf(offline.type, offline.publicKey) };
}

export interface TestNode {
  node: Node;
  url: string;
  client: RpcClient;
  home: string;
  genesisFile: string;
  chainId: string;
}

/** Test nodes cut a block every 50 ms when idle, so a commit never waits a full second. */
export async function fastBlocks(home: string): Promise<void> {
  const file = paths(home).config;
  const config = JSON.parse(await readFile(file, 'utf8')) as { consensus: { emptyBlockIntervalMs: number } };
  config.consensus.emptyBlockIntervalMs = 50;
  await writeFile(file, JSON.stringify(config, null, 2));
}

export async function startNode(t: Teardown, chainId = 'receipts-test'): Promise<TestNode> {
  const home = await tempDir(t, 'iotchain-node-');
  await initHome({ home, chainId, rpcPort: 0 });
  await fastBlocks(home);
  const node = await createNode({ home, logger: pino({ level: 'silent' }) });
  await node.start();
  t.teardown(() => node.stop());
  const client = new RpcClient(node.rpcUrl!);
  t.teardown(() => client.close());
  return { node, url: node.rpcUrl!, client, home, genesisFile: paths(home).genesis, chainId };
}

/** Registers the entity's online key (identity/submitPublicKey). */
export async function register(n: TestNode, e: Entity): Promise<void> {
  await ensureRegistered(n.client, e);
}
