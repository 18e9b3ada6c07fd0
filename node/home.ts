// Creating a node home directory (used by `iotchain init`, the devnet and tests).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from './p2p.js';
import { paths, writeJson, DEFAULT_CONFIG, type NodeConfig } from './config.js';
import { generateKeyPair, KeyType, addressOf, toChecksumAddress, parseAddress } from '../crypto/keys.js';
import { saveKeyFile } from '../crypto/keystore.js';
import { toHex } from '../lib/hex.js';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { parseGenesis, genesisToJson, DEFAULT_PARAMS } from '../state/genesis.js';

export interface InitOptions {
  home: string;
  chainId: string;
  moniker?: string;
  rpcPort?: number;
  p2pPort?: number;
  metricsPort?: number;
  /** address=amount pairs funded at genesis */
  fund?: string[];
  minFee?: string;
  passphrase?: string;
  genesisTime?: number;
}

function fundEntries(fund: string[] | undefined) {
  return (fund ?? []).map((f) => {
    const [addr, amount] = f.split('=');
    if (!addr || !amount || !/^[0-9]+$/.test(amount)) throw new InvalidMessageError(ERR.CONFIG, `--fund expects ADDRESS=AMOUNT, got ${f}`);
    return { address: toChecksumAddress(parseAddress(addr)), amount: BigInt(amount).toString(10) };
  });
}

interface MemberKeys {
  home: string;
  name: string;
  consensusKey: Uint8Array;
  peerId: string;
  rpcPort: number;
  p2pPort: number;
}

/** Writes one member's keys and config (not the genesis). Refuses to overwrite. */
async function initMember(home: string, name: string, rpcPort: number, p2pPort: number, passphrase: string | undefined): Promise<MemberKeys> {
  const p = paths(home);
  if (existsSync(p.config) || existsSync(p.genesis) || existsSync(p.consensusKey)) {
    throw new InvalidMessageError(ERR.CONFIG, `${home} is already initialized (remove it first)`);
  }
  await mkdir(home, { recursive: true });
  const key = generateKeyPair(KeyType.p256);
  await saveKeyFile(p.consensusKey, key, passphrase);
  const p2p = generateKeyPair(KeyType.secp256k1);
  await saveKeyFile(p.p2pKey, p2p, undefined);
  return { home, name, consensusKey: key.publicKey, peerId: peerIdFromPrivateKey(p2p.privateKey), rpcPort, p2pPort };
}

async function writeMemberConfig(m: MemberKeys, peers: string[], metricsPort: number): Promise<void> {
  const config: NodeConfig = structuredClone(DEFAULT_CONFIG);
  config.moniker = m.name;
  config.rpc.port = m.rpcPort;
  config.p2p.port = m.p2pPort;
  config.metrics.port = metricsPort;
  config.p2p.peers = peers;
  await writeJson(paths(m.home).config, config);
}

export interface NetworkOptions {
  /** One home per validator: DIR/node0, DIR/node1, … */
  dir: string;
  validators: number;
  chainId: string;
  /** Node i listens for RPC on rpcPort + i and for p2p on p2pPort + i (all on 127.0.0.1). */
  rpcPort: number;
  p2pPort: number;
  /** Node i serves Prometheus metrics on metricsPort + i (default: a free port). */
  metricsPort?: number;
  fund?: string[];
  minFee?: string;
  genesisTime?: number;
}

/** Creates an N-validator local network: keys, configs with static peers, one shared genesis. */
export async function initNetwork(o: NetworkOptions): Promise<{ homes: string[]; genesis: Record<string, unknown> }> {
  const members: MemberKeys[] = [];
  for (let i = 0; i < o.validators; i++) {
    members.push(await initMember(join(o.dir, `node${i}`), `validator-${i}`, o.rpcPort + i, o.p2pPort + i, undefined));
  }
  const genesis = genesisToJson(
    parseGenesis({
      chainId: o.chainId,
      genesisTime: o.genesisTime ?? Date.now(),
      validators: members.map((m) => ({ name: m.name, consensusKey: toHex(m.consensusKey), peerId: m.peerId, power: 1 })),
      params: { minFee: o.minFee ?? DEFAULT_PARAMS.minFee.toString(10) },
      modules: { bank: { balances: fundEntries(o.fund) } },
    }),
  );
  for (const m of members) {
    const peers = members.filter((x) => x !== m).map((x) => `/ip4/127.0.0.1/tcp/${x.p2pPort}/p2p/${x.peerId}`);
    await writeMemberConfig(m, peers, o.metricsPort === undefined ? 0 : o.metricsPort + members.indexOf(m));
    await writeJson(paths(m.home).genesis, genesis);
  }
  return { homes: members.map((m) => m.home), genesis };
}

/** Creates a single-validator home: config, consensus and p2p keys, genesis. Refuses to overwrite. */
export async function initHome(o: InitOptions): Promise<{ home: string; consensusKey: string; genesis: string }> {
  const p = paths(o.home);
  if (existsSync(p.config) || existsSync(p.genesis) || existsSync(p.consensusKey)) {
    throw new InvalidMessageError(ERR.CONFIG, `${o.home} is already initialized (remove it first)`);
  }
  const m = await initMember(o.home, o.moniker ?? 'validator-0', o.rpcPort ?? DEFAULT_CONFIG.rpc.port, o.p2pPort ?? DEFAULT_CONFIG.p2p.port, o.passphrase);
  await writeMemberConfig(m, [], o.metricsPort ?? (o.rpcPort === 0 ? 0 : DEFAULT_CONFIG.metrics.port));
  const balances = fundEntries(o.fund);
  const genesis = parseGenesis({
    chainId: o.chainId,
    genesisTime: o.genesisTime ?? Date.now(),
    validators: [{ name: m.name, consensusKey: toHex(m.consensusKey), peerId: m.peerId, power: 1 }],
    params: { minFee: o.minFee ?? DEFAULT_PARAMS.minFee.toString(10) },
    modules: { bank: { balances } },
  });
  await writeJson(p.genesis, genesisToJson(genesis));
  return { home: o.home, consensusKey: toChecksumAddress(addressOf(KeyType.p256, m.consensusKey)), genesis: p.genesis };
}

/**
 * Node.js flags of the devnet's validator processes. --single-threaded-gc: a devnet runs several
 * validators on the machine's few cores, where V8's parallel GC helper threads only compete with
 * the other validators. At 4 validators on 2 cores one GC thread per process gave 3–10 % less
 * validator CPU per tx in three back-to-back pairs (BENCHMARKS.md, session 4), a gain of the size of
 * this VM's noise. The devnet (cli/actions/node.ts) and bench/lib/cluster.ts start validators with them.
 */
export const VALIDATOR_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
