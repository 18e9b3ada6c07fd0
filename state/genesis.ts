// Genesis file: chain id, genesis time, validator set, chain parameters and each module's section.
// Parsed strictly: an unknown field, a bad key or a bad number is a clear InvalidMessageError.
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { fromHex } from '../lib/hex.js';
import { CHAIN_ID_RE } from './tx.js';
import { MAX_VALIDATORS, MAX_BLOCK_TXS, type Validator } from './block.js';
import { assertPublicKey, KeyType } from '../crypto/keys.js';

export interface ChainParams {
  /** Minimum fee per transaction (0 allowed for a closed consortium). */
  minFee: bigint;
  /** Most transactions in one block. */
  maxBlockTxs: number;
  /** Most encoded transaction bytes in one block. */
  maxBlockBytes: number;
  /** A block's time may be at most this far ahead of a replica's clock (ms). */
  maxClockDriftMs: number;
  /** Bits of the state tree's bucket index (fixed for the chain's life). */
  stateBucketBits: number;
}

export interface Genesis {
  chainId: string;
  genesisTime: number;
  validators: Validator[];
  params: ChainParams;
  /** Module sections by module name; each module validates its own. */
  modules: Record<string, unknown>;
}

export const DEFAULT_PARAMS: ChainParams = {
  minFee: 0n,
  maxBlockTxs: 5_000,
  maxBlockBytes: 4 * 1024 * 1024,
  maxClockDriftMs: 2_000,
  stateBucketBits: 16,
};

function bad(msg: string): never {
  throw new InvalidMessageError(ERR.CONFIG, `genesis: ${msg}`);
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) bad(`${what} must be an integer in ${min}..${max}`);
  return v;
}

function only(obj: Record<string, unknown>, allowed: string[], what: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) bad(`unknown field ${what}.${k}`);
}

export function parseGenesis(json: unknown): Genesis {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('expected a JSON object');
  const g = json as Record<string, unknown>;
  only(g, ['chainId', 'genesisTime', 'validators', 'params', 'modules'], 'genesis');
  if (typeof g.chainId !== 'string' || !CHAIN_ID_RE.test(g.chainId)) bad('chainId must be 1-63 lower-case letters, digits or hyphens');
  const genesisTime = int(g.genesisTime, 'genesisTime', 0, Number.MAX_SAFE_INTEGER);
  if (!Array.isArray(g.validators) || g.validators.length === 0 || g.validators.length > MAX_VALIDATORS) bad(`validators must list 1..${MAX_VALIDATORS} validators`);
  const keys = new Set<string>();
  const validators = g.validators.map((v: unknown, i: number): Validator => {
    if (typeof v !== 'object' || v === null) bad(`validators[${i}] must be an object`);
    const o = v as Record<string, unknown>;
    only(o, ['name', 'consensusKey', 'peerId', 'power'], `validators[${i}]`);
    if (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 64) bad(`validators[${i}].name must be 1-64 characters`);
    if (typeof o.consensusKey !== 'string') bad(`validators[${i}].consensusKey must be 0x-hex`);
    let consensusKey: Uint8Array;
    try {
      consensusKey = fromHex(o.consensusKey, 'consensusKey', 33);
      assertPublicKey(KeyType.p256, consensusKey);
    } catch (e) {
      return bad(`validators[${i}].consensusKey: ${(e as Error).message} (expected a compressed P-256 key)`);
    }
    if (keys.has(o.consensusKey)) bad(`validators[${i}]: duplicate consensusKey`);
    keys.add(o.consensusKey);
    if (typeof o.peerId !== 'string' || o.peerId.length > 128) bad(`validators[${i}].peerId must be a string`);
    const power = o.power === undefined ? 1 : int(o.power, `validators[${i}].power`, 1, 1);
    return { name: o.name, consensusKey, peerId: o.peerId, power };
  });
  const p = (g.params ?? {}) as Record<string, unknown>;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) bad('params must be an object');
  only(p, ['minFee', 'maxBlockTxs', 'maxBlockBytes', 'maxClockDriftMs', 'stateBucketBits'], 'params');
  let minFee = DEFAULT_PARAMS.minFee;
  if (p.minFee !== undefined) {
    if (typeof p.minFee !== 'string' || !/^(0|[1-9][0-9]{0,30})$/.test(p.minFee)) bad('params.minFee must be a decimal string');
    minFee = BigInt(p.minFee);
  }
  const params: ChainParams = {
    minFee,
    maxBlockTxs: p.maxBlockTxs === undefined ? DEFAULT_PARAMS.maxBlockTxs : int(p.maxBlockTxs, 'params.maxBlockTxs', 1, MAX_BLOCK_TXS),
    maxBlockBytes: p.maxBlockBytes === undefined ? DEFAULT_PARAMS.maxBlockBytes : int(p.maxBlockBytes, 'params.maxBlockBytes', 1024, 8 * 1024 * 1024 - 4096),
    maxClockDriftMs: p.maxClockDriftMs === undefined ? DEFAULT_PARAMS.maxClockDriftMs : int(p.maxClockDriftMs, 'params.maxClockDriftMs', 0, 600_000),
    stateBucketBits: p.stateBucketBits === undefined ? DEFAULT_PARAMS.stateBucketBits : int(p.stateBucketBits, 'params.stateBucketBits', 4, 24),
  };
  const modules = (g.modules ?? {}) as Record<string, unknown>;
  if (typeof modules !== 'object' || modules === null || Array.isArray(modules)) bad('modules must be an object');
  return { chainId: g.chainId, genesisTime, validators, params, modules };
}

export function genesisToJson(g: Genesis): Record<string, unknown> {
  return {
    chainId: g.chainId,
    genesisTime: g.genesisTime,
    validators: g.validators.map((v) => ({ name: v.name, consensusKey: '0x' + Buffer.from(v.consensusKey).toString('hex'), peerId: v.peerId, power: v.power })),
    params: { ...g.params, minFee: g.params.minFee.toString(10) },
    modules: g.modules,
  };
}
