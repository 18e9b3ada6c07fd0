// Canonical codecs of the validators module, proposal ids and the stateless check of a proposed set.
import { struct, list, tuple, u8, u16, u53, bytes20, bytes32, encode, mapCodec, type Codec } from '../../lib/encoding.js';
import { InvalidMessageError, ERR } from '../../lib/errors.js';
import { concatBytes, toHex } from '../../lib/hex.js';
import { sha256 } from '../../crypto/hash.js';
import { assertPublicKey, KeyType } from '../../crypto/keys.js';
import { validatorSetCodec, MAX_VALIDATORS, type Validator } from '../../state/block.js';
import { VALIDATORS_ERR } from './errors.js';
import { CaAction, type CaChange, type CaProposal, type Pending, type SetProposal, type ValidatorsMsgs } from './types.js';

const caActionCodec: Codec<CaAction> = mapCodec<number, CaAction>(
  u8,
  (a) => a,
  (n, path) => {
    if (n !== CaAction.add && n !== CaAction.remove) throw new InvalidMessageError(ERR.ENCODING, `${path}: unknown CA action ${n}`);
    return n;
  },
);

export const setProposalCodec: Codec<SetProposal> = struct<SetProposal>(
  { set: validatorSetCodec, approvals: list(u16, MAX_VALIDATORS), createdHeight: u53, setHash: bytes32 },
  ['set', 'approvals', 'createdHeight', 'setHash'],
);
export const caProposalCodec: Codec<CaProposal> = struct<CaProposal>(
  { action: caActionCodec, ca: bytes20, approvals: list(u16, MAX_VALIDATORS), createdHeight: u53, setHash: bytes32 },
  ['action', 'ca', 'approvals', 'createdHeight', 'setHash'],
);
export const pendingCodec: Codec<Pending> = struct<Pending>({ effectiveHeight: u53, set: validatorSetCodec }, ['effectiveHeight', 'set']);

export const argsCodecs: { [K in keyof ValidatorsMsgs]: Codec<ValidatorsMsgs[K]> } = {
  propose: struct<{ validators: Validator[] }>({ validators: validatorSetCodec }, ['validators']),
  approve: struct<{ proposal: Uint8Array }>({ proposal: bytes32 }, ['proposal']),
  proposeAddCa: struct<{ ca: Uint8Array }>({ ca: bytes20 }, ['ca']),
  proposeRemoveCa: struct<{ ca: Uint8Array }>({ ca: bytes20 }, ['ca']),
};

/** Id of a validator-set proposal: SHA-256 of the set's canonical encoding. */
export function proposalId(set: Validator[]): Uint8Array {
  return sha256(encode(validatorSetCodec, set));
}

const CA_CHANGE_TAG = new TextEncoder().encode('iotchain/validators/ca/v1\0');
const caChangeCodec = tuple<[number, Uint8Array]>(u8, bytes20);

/** Id of a CA-set proposal: SHA-256 of a domain tag and (action, ca); never equal to a set proposal's id. */
export function caProposalId(change: CaChange): Uint8Array {
  return sha256(concatBytes(CA_CHANGE_TAG, encode(caChangeCodec, [change.action, change.ca])));
}

/** Stateless checks of a proposed set: 1..MAX members, valid P-256 keys, no duplicate key or peer id, power 1. */
export function validateSet(set: Validator[]): void {
  if (set.length === 0 || set.length > MAX_VALIDATORS) throw new InvalidMessageError(VALIDATORS_ERR.BAD_SET, `a validator set has 1..${MAX_VALIDATORS} members`);
  const keys = new Set<string>();
  const peers = new Set<string>();
  for (const [i, v] of set.entries()) {
    try {
      assertPublicKey(KeyType.p256, v.consensusKey);
    } catch {
      throw new InvalidMessageError(VALIDATORS_ERR.BAD_SET, `validators[${i}]: consensusKey is not a compressed P-256 key`);
    }
    if (v.power !== 1) throw new InvalidMessageError(VALIDATORS_ERR.BAD_SET, `validators[${i}]: power must be 1`);
    if (v.name.length === 0) throw new InvalidMessageError(VALIDATORS_ERR.BAD_SET, `validators[${i}]: empty name`);
    const k = toHex(v.consensusKey);
    if (keys.has(k)) throw new InvalidMessageError(VALIDATORS_ERR.BAD_SET, `validators[${i}]: duplicate consensusKey`);
    if (v.peerId && peers.has(v.peerId)) throw new InvalidMessageError(VALIDATORS_ERR.BAD_SET, `validators[${i}]: duplicate peerId`);
    keys.add(k);
    peers.add(v.peerId);
  }
}
