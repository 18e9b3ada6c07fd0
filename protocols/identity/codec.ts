// Canonical codecs of the identity records and messages, and their stateless checks (validateBasic).
import { struct, mapCodec, bytes, bytes20, bytes32, bytes33, bytes64, amount, u53, uint, str, optional, type Codec } from '../../lib/encoding.js';
import { InvalidMessageError, ERR } from '../../lib/errors.js';
import { isKeyType, assertPublicKey, addressOf, type KeyType } from '../../crypto/keys.js';
import { bytesEqual } from '../../lib/hex.js';
import type {
  IdentityRecord,
  KeyHistoryEntry,
  Commitment,
  DomainRecord,
  TargetStake,
  Vouch,
  Unbonding,
  CaRecord,
  IdentityParams,
  KeyArgs,
  SubmitDomainArgs,
  IdentityMsgs,
  NameMode,
} from './types.js';
import { IDENTITY_ERR } from './errors.js';
import { assertName, assertEndpoint, MAX_NAME_BYTES, MAX_IP_BYTES } from './syntax.js';

export const keyTypeCodec: Codec<KeyType> = mapCodec<number, KeyType>(
  uint(1),
  (k) => k,
  (n, path) => {
    if (!isKeyType(n)) throw new InvalidMessageError(ERR.ENCODING, `${path}: unknown key type ${n}`);
    return n;
  },
);

const nameModeCodec: Codec<NameMode> = uint(1) as Codec<NameMode>;

/**
 * Unsigned bigint of at most 64 bytes, minimal big-endian (zero = empty). For the incentive
 * accumulator, which is scaled by ACC_SCALE and may outgrow the 32-byte `amount`.
 */
export const bigUint: Codec<bigint> = mapCodec<Uint8Array, bigint>(
  bytes(64),
  (v) => {
    if (v < 0n) throw new RangeError('negative bigUint');
    if (v === 0n) return new Uint8Array(0);
    let hex = v.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    if (hex.length > 128) throw new RangeError('bigUint larger than 2^512-1');
    return new Uint8Array(Buffer.from(hex, 'hex'));
  },
  (b, path) => {
    if (b.length > 0 && b[0] === 0) throw new InvalidMessageError(ERR.ENCODING, `${path}: leading zero byte (not minimal)`);
    return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
  },
);

const nameCodec = str(MAX_NAME_BYTES);
const ipCodec = str(MAX_IP_BYTES);

export const identityRecordCodec = struct<IdentityRecord>(
  { online: bytes20, keyType: keyTypeCodec, pub: bytes33, registeredAt: u53, historyLength: u53, closedAt: optional(u53) },
  ['online', 'keyType', 'pub', 'registeredAt', 'historyLength', 'closedAt'],
);
export const historyEntryCodec = struct<KeyHistoryEntry>(
  { online: bytes20, keyType: keyTypeCodec, pub: bytes33, from: u53, to: optional(u53) },
  ['online', 'keyType', 'pub', 'from', 'to'],
);
export const commitmentCodec = struct<Commitment>({ time: u53, height: u53 }, ['time', 'height']);
export const domainCodec = struct<DomainRecord>(
  { owner: bytes20, ip: ipCodec, backup: optional(bytes20), registrar: bytes20, mode: nameModeCodec, registeredAt: u53, expires: u53 },
  ['owner', 'ip', 'backup', 'registrar', 'mode', 'registeredAt', 'expires'],
);
export const targetStakeCodec = struct<TargetStake>(
  { totalStake: amount, vouchers: u53, pool: amount, streamEnd: u53, lastAccrual: u53, acc: bigUint, held: amount },
  ['totalStake', 'vouchers', 'pool', 'streamEnd', 'lastAccrual', 'acc', 'held'],
);
export const vouchCodec = struct<Vouch>({ stake: amount, accSnapshot: bigUint, since: u53 }, ['stake', 'accSnapshot', 'since']);
export const unbondingCodec = struct<Unbonding>({ amount, liable: amount, due: u53 }, ['amount', 'liable', 'due']);
export const caRecordCodec = struct<CaRecord>({ since: u53 }, ['since']);
export const paramsCodec = struct<IdentityParams>(
  {
    minCommitAgeMs: u53,
    maxCommitAgeMs: u53,
    namePeriodMs: u53,
    nameFeePerPeriod: amount,
    maxPeriods: u53,
    nameGraceMs: u53,
    minBet: amount,
    unbondingMs: u53,
    incentivePeriodMs: u53,
    closePenaltyPoints: u53,
    closePenaltyPerAmount: amount,
    trustUnit: amount,
  },
  [
    'minCommitAgeMs',
    'maxCommitAgeMs',
    'namePeriodMs',
    'nameFeePerPeriod',
    'maxPeriods',
    'nameGraceMs',
    'minBet',
    'unbondingMs',
    'incentivePeriodMs',
    'closePenaltyPoints',
    'closePenaltyPerAmount',
    'trustUnit',
  ],
);

// ---------------------------------------------------------------------------------------------
// Message args

const keyArgsCodec = struct<KeyArgs>({ addr: bytes20, keyType: keyTypeCodec, pub: bytes33, pop: bytes64 }, ['addr', 'keyType', 'pub', 'pop']);
const periodsCodec = uint(0xff);

export const argsCodecs: { [K in keyof IdentityMsgs]: Codec<IdentityMsgs[K]> } = {
  submitPublicKey: keyArgsCodec,
  addIncentive: struct<{ reward: bigint }>({ reward: amount }, ['reward']),
  updatePublicKey: keyArgsCodec,
  closePublicKey: struct<Record<string, never>>({}, []),
  commitDomainName: struct<{ commitment: Uint8Array }>({ commitment: bytes32 }, ['commitment']),
  submitDomainName: struct<SubmitDomainArgs>(
    { addr: bytes20, name: nameCodec, ip: ipCodec, backup: optional(bytes20), salt: bytes32, periods: periodsCodec },
    ['addr', 'name', 'ip', 'backup', 'salt', 'periods'],
  ),
  renewDomainName: struct<{ name: string; periods: number }>({ name: nameCodec, periods: periodsCodec }, ['name', 'periods']),
  updateDomainName: struct<{ name: string; ip: string; backup: Uint8Array | undefined }>({ name: nameCodec, ip: ipCodec, backup: optional(bytes20) }, ['name', 'ip', 'backup']),
  takeOverDomainName: struct<{ name: string; ip: string | undefined }>({ name: nameCodec, ip: optional(ipCodec) }, ['name', 'ip']),
  vouchKey: struct<{ addr: Uint8Array; bet: bigint }>({ addr: bytes20, bet: amount }, ['addr', 'bet']),
  unvouchKey: struct<{ addr: Uint8Array }>({ addr: bytes20 }, ['addr']),
  claimIncentive: struct<{ addr: Uint8Array }>({ addr: bytes20 }, ['addr']),
};

// ---------------------------------------------------------------------------------------------
// Stateless checks

/** The key is a valid point of its curve and `addr` is its address. */
export function validateKeyArgs(a: KeyArgs): void {
  try {
    assertPublicKey(a.keyType, a.pub);
  } catch (e) {
    throw new InvalidMessageError(IDENTITY_ERR.BAD_KEY, `pub: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!bytesEqual(addressOf(a.keyType, a.pub), a.addr)) throw new InvalidMessageError(IDENTITY_ERR.BAD_KEY, 'addr is not the address of pub');
}

function positive(v: bigint, what: string): void {
  if (v === 0n) throw new InvalidMessageError(IDENTITY_ERR.ZERO_AMOUNT, `${what} must be positive`);
}

function periods(n: number): void {
  if (n < 1) throw new InvalidMessageError(IDENTITY_ERR.BAD_PERIODS, 'periods must be at least 1');
}

export const validators: { [K in keyof IdentityMsgs]?: (args: IdentityMsgs[K]) => void } = {
  submitPublicKey: validateKeyArgs,
  updatePublicKey: validateKeyArgs,
  addIncentive: (a) => positive(a.reward, 'reward'),
  submitDomainName(a) {
    assertName(a.name);
    assertEndpoint(a.ip);
    periods(a.periods);
    if (a.backup && bytesEqual(a.backup, a.addr)) throw new InvalidMessageError(IDENTITY_ERR.BAD_BACKUP, 'the backup must differ from the owner');
  },
  renewDomainName(a) {
    assertName(a.name);
    periods(a.periods);
  },
  updateDomainName(a) {
    assertName(a.name);
    assertEndpoint(a.ip);
  },
  takeOverDomainName(a) {
    assertName(a.name);
    if (a.ip !== undefined) assertEndpoint(a.ip);
  },
  vouchKey: (a) => positive(a.bet, 'bet'),
};
