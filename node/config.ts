// Node home directory and config file. Layout of HOME:
//   config.json          this node's settings (below)
//   genesis.json         the chain's genesis (identical on every node)
//   consensus_key.json   the validator's P-256 consensus key (a key file, encrypted unless --insecure)
//   p2p_key.json         the node's secp256k1 libp2p identity key (a key file)
//   data/                LevelDB: state, tree, blocks, results, indexes
//   wal/consensus.wal    the PBFT write-ahead log of this validator's own votes
import { readFile, writeFile, mkdir, rename } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { parseGenesis, type Genesis } from '../state/genesis.js';

export interface NodeConfig {
  moniker: string;
  rpc: { host: string; port: number };
  /**
   * txRelay: how tx gossip travels (node/p2p.ts). 'flood' (default): the node that admits a tx sends
   * it to every connected peer and nobody pushes it on; a peer that missed it fetches it through
   * gossipsub's lazy IHAVE/IWANT within a heartbeat (1 s). Right for validators that all dial each
   * other (devnet, a consortium). 'mesh': gossipsub's relaying mesh, for sparse topologies.
   */
  p2p: { host: string; port: number; peers: string[]; txRelay: 'flood' | 'mesh' };
  consensus: { blockDelayMs: number; blockDelayMaxMs: number; emptyBlockIntervalMs: number; timeoutBaseMs: number; timeoutMaxMs: number };
  mempool: { maxTxs: number; maxBytes: number; nonceWindow: number };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent' };
  /** Prometheus endpoint (GET /metrics); port 0 picks a free port, -1 turns it off. */
  metrics: { host: string; port: number };
}

export const DEFAULT_CONFIG: NodeConfig = {
  moniker: 'node',
  rpc: { host: '127.0.0.1', port: 26657 },
  p2p: { host: '127.0.0.1', port: 26656, peers: [], txRelay: 'flood' },
  consensus: { blockDelayMs: 20, blockDelayMaxMs: 250, emptyBlockIntervalMs: 1000, timeoutBaseMs: 3000, timeoutMaxMs: 30_000 },
  mempool: { maxTxs: 20_000, maxBytes: 64 * 1024 * 1024, nonceWindow: 256 },
  log: { level: 'info' },
  metrics: { host: '127.0.0.1', port: 26660 },
};

export const paths = (home: string) => ({
  config: join(home, 'config.json'),
  genesis: join(home, 'genesis.json'),
  consensusKey: join(home, 'consensus_key.json'),
  p2pKey: join(home, 'p2p_key.json'),
  data: join(home, 'data'),
  wal: join(home, 'wal', 'consensus.wal'),
});

function bad(file: string, msg: string): never {
  throw new InvalidMessageError(ERR.CONFIG, `${file}: ${msg}`);
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

/** Validates a parsed config object, filling defaults; unknown fields are errors (typos must not pass). */
export function parseConfig(json: unknown, file = 'config.json'): NodeConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad(file, 'expected a JSON object');
  const c = json as Record<string, unknown>;
  const sections: Record<string, string[]> = {
    rpc: ['host', 'port'],
    p2p: ['host', 'port', 'peers', 'txRelay'],
    consensus: ['blockDelayMs', 'blockDelayMaxMs', 'emptyBlockIntervalMs', 'timeoutBaseMs', 'timeoutMaxMs'],
    mempool: ['maxTxs', 'maxBytes', 'nonceWindow'],
    log: ['level'],
    metrics: ['host', 'port'],
  };
  for (const k of Object.keys(c)) if (k !== 'moniker' && !(k in sections)) bad(file, `unknown field "${k}"`);
  const out: NodeConfig = structuredClone(DEFAULT_CONFIG);
  if (c.moniker !== undefined) {
    if (typeof c.moniker !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(c.moniker)) bad(file, 'moniker must be 1-64 of [A-Za-z0-9._-]');
    out.moniker = c.moniker;
  }
  for (const [sec, fields] of Object.entries(sections)) {
    const v = c[sec];
    if (v === undefined) continue;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(file, `${sec} must be an object`);
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (!fields.includes(k)) bad(file, `unknown field "${sec}.${k}"`);
      const target = (out as unknown as Record<string, Record<string, unknown>>)[sec]!;
      if (k === 'host') {
        if (typeof val !== 'string' || val.length === 0) bad(file, `${sec}.host must be a host name or address`);
      } else if (k === 'peers') {
        if (!Array.isArray(val) || !val.every((p) => typeof p === 'string')) bad(file, 'p2p.peers must be a list of multiaddrs');
      } else if (k === 'txRelay') {
        if (val !== 'flood' && val !== 'mesh') bad(file, 'p2p.txRelay must be "flood" or "mesh"');
      } else if (k === 'level') {
        if (typeof val !== 'string' || !LEVELS.includes(val)) bad(file, `log.level must be one of ${LEVELS.join(', ')}`);
      } else if (sec === 'metrics' && k === 'port' && val === -1) {
        // metrics off
      } else if (typeof val !== 'number' || !Number.isSafeInteger(val) || val < 0 || (k === 'port' && val > 65535)) {
        bad(file, `${sec}.${k} must be a non-negative integer${k === 'port' ? ' ≤ 65535' : ''}`);
      }
      target[k] = val;
    }
  }
  return out;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InvalidMessageError(ERR.CONFIG, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidMessageError(ERR.CONFIG, `${file} is not valid JSON`);
  }
}

export async function loadConfig(home: string): Promise<NodeConfig> {
  const f = paths(home).config;
  const c = parseConfig(await readJson(f), f);
  if (c.consensus.emptyBlockIntervalMs >= c.consensus.timeoutBaseMs) {
    throw new InvalidMessageError(ERR.CONFIG, `${f}: consensus.emptyBlockIntervalMs must be below consensus.timeoutBaseMs (an idle primary would be voted out)`);
  }
  if (c.consensus.blockDelayMaxMs >= c.consensus.timeoutBaseMs) {
    throw new InvalidMessageError(ERR.CONFIG, `${f}: consensus.blockDelayMaxMs must be below consensus.timeoutBaseMs (a primary still gathering transactions would be voted out)`);
  }
  return c;
}

export async function loadGenesis(file: string): Promise<Genesis> {
  try {
    return parseGenesis(await readJson(file));
  } catch (e) {
    if (e instanceof InvalidMessageError) throw new InvalidMessageError(e.code, `${file}: ${e.message}`);
    throw e;
  }
}

/** Writes JSON atomically (temp file + rename), creating the directory. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, file);
}
