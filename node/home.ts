// Creating a node home directory (used by `iotchain init`, the devnet and tests).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
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
  /** address=amount pairs funded at genesis */
  fund?: string[];
  minFee?: string;
  passphrase?: string;
  genesisTime?: number;
}

/** Creates a single-validator home: config, consensus key, genesis. Refuses to overwrite. */
export async function initHome(o: InitOptions): Promise<{ home: string; consensusKey: string; genesis: string }> {
  const p = paths(o.home);
  if (existsSync(p.config) || existsSync(p.genesis) || existsSync(p.consensusKey)) {
    throw new InvalidMessageError(ERR.CONFIG, `${o.home} is already initialized (remove it first)`);
  }
  await mkdir(o.home, { recursive: true });
  const key = generateKeyPair(KeyType.p256);
  await saveKeyFile(p.consensusKey, key, o.passphrase);
  const config: NodeConfig = structuredClone(DEFAULT_CONFIG);
  config.moniker = o.moniker ?? 'validator-0';
  if (o.rpcPort !== undefined) config.rpc.port = o.rpcPort;
  if (o.p2pPort !== undefined) config.p2p.port = o.p2pPort;
  await writeJson(p.config, config);
  const balances = (o.fund ?? []).map((f) => {
    const [addr, amount] = f.split('=');
    if (!addr || !amount || !/^[0-9]+$/.test(amount)) throw new InvalidMessageError(ERR.CONFIG, `--fund expects ADDRESS=AMOUNT, got ${f}`);
    return { address: toChecksumAddress(parseAddress(addr)), amount: BigInt(amount).toString(10) };
  });
  const genesis = parseGenesis({
    chainId: o.chainId,
    genesisTime: o.genesisTime ?? Date.now(),
    validators: [{ name: config.moniker, consensusKey: toHex(key.publicKey), peerId: '', power: 1 }],
    params: { minFee: o.minFee ?? DEFAULT_PARAMS.minFee.toString(10) },
    modules: { bank: { balances } },
  });
  await writeJson(p.genesis, genesisToJson(genesis));
  return { home: o.home, consensusKey: toChecksumAddress(addressOf(KeyType.p256, key.publicKey)), genesis: p.genesis };
}

