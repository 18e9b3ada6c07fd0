// Validator-set changes (SPEC §2): a proposal of a new set, approved by a quorum (2f+1) of the
// current validators, takes effect two heights after the approving block. Validators sign these
// transactions with their P-256 consensus keys (a supported transaction key type); the sender's
// address must be the consensus-key address of a current validator.
// Key space: 'c' → current set; 'n' → pending {effectiveHeight, set}; 'p' ‖ id → proposal;
// 'h' ‖ height(8) → the set in force from that height (history, for light clients and audits).
import { struct, list, u16, u53, bytes32, encode, decode, type Codec } from '../../lib/encoding.js';
import { ProtocolError, InvalidMessageError } from '../../lib/errors.js';
import { concatBytes, uintBE, bytesEqual, toHex } from '../../lib/hex.js';
import { sha256 } from '../../crypto/hash.js';
import { assertPublicKey, KeyType } from '../../crypto/keys.js';
import { validatorCodec, validatorSetCodec, validatorAddress, validatorSetHash, quorum, MAX_VALIDATORS, type Validator } from '../../state/block.js';
import { defineQuery, type NativeModule, type ModuleReader, type ModuleStore } from '../module.js';

export const VALIDATORS_MODULE_ID = 7;

export const VALIDATORS_ERR = {
  NOT_VALIDATOR: 'VALIDATORS_SENDER_NOT_VALIDATOR',
  BAD_SET: 'VALIDATORS_BAD_SET',
  UNKNOWN_PROPOSAL: 'VALIDATORS_UNKNOWN_PROPOSAL',
  ALREADY_APPROVED: 'VALIDATORS_ALREADY_APPROVED',
  PENDING: 'VALIDATORS_CHANGE_PENDING',
  SAME_SET: 'VALIDATORS_SAME_SET',
} as const;

/** Heights between the approving block and the first block of the new set. */
export const ACTIVATION_DELAY = 2;

interface Proposal {
  set: Validator[];
  approvals: number[];
  createdHeight: number;
}
interface Pending {
  effectiveHeight: number;
  set: Validator[];
}

const proposalCodec: Codec<Proposal> = struct<Proposal>({ set: validatorSetCodec, approvals: list(u16, MAX_VALIDATORS), createdHeight: u53 }, ['set', 'approvals', 'createdHeight']);
const pendingCodec: Codec<Pending> = struct<Pending>({ effectiveHeight: u53, set: validatorSetCodec }, ['effectiveHeight', 'set']);

const K_CURRENT = new Uint8Array([0x63]);
const K_PENDING = new Uint8Array([0x6e]);
const P_PROPOSAL = new Uint8Array([0x70]);
const P_HISTORY = new Uint8Array([0x68]);
const proposalKey = (id: Uint8Array) => concatBytes(P_PROPOSAL, id);
const historyKey = (h: number) => concatBytes(P_HISTORY, uintBE(h, 8));

export function proposalId(set: Validator[]): Uint8Array {
  return sha256(encode(validatorSetCodec, set));
}

function readSet(r: ModuleReader): Validator[] | undefined {
  const raw = r.get(K_CURRENT);
  return raw ? decode(validatorSetCodec, raw, 'validator set') : undefined;
}

function readPending(r: ModuleReader): Pending | undefined {
  const raw = r.get(K_PENDING);
  return raw ? decode(pendingCodec, raw, 'pending validator set') : undefined;
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

function senderIndex(set: Validator[], sender: Uint8Array): number {
  const i = set.findIndex((v) => bytesEqual(validatorAddress(v), sender));
  if (i < 0) throw new ProtocolError(VALIDATORS_ERR.NOT_VALIDATOR, 'only a current validator (signing with its consensus key) may propose or approve a validator set');
  return i;
}

function approve(state: ModuleStore, current: Validator[], id: Uint8Array, p: Proposal, by: number, height: number, emit: (t: string, a: Record<string, string | number>) => void): void {
  if (p.approvals.includes(by)) throw new ProtocolError(VALIDATORS_ERR.ALREADY_APPROVED, `validator ${by} already approved this proposal`);
  const approvals = [...p.approvals, by].sort((a, b) => a - b);
  const need = quorum(current.length);
  if (approvals.length >= need) {
    if (readPending(state)) throw new ProtocolError(VALIDATORS_ERR.PENDING, 'another validator-set change is pending');
    state.set(K_PENDING, encode(pendingCodec, { effectiveHeight: height + ACTIVATION_DELAY, set: p.set }));
    state.delete(proposalKey(id));
    emit('approved', { proposal: toHex(id), effectiveHeight: height + ACTIVATION_DELAY, approvals: approvals.length });
    return;
  }
  state.set(proposalKey(id), encode(proposalCodec, { ...p, approvals }));
  emit('approval', { proposal: toHex(id), by, approvals: approvals.length, needed: need });
}

interface ValidatorsMsgs {
  propose: { validators: Validator[] };
  approve: { proposal: Uint8Array };
}

export const validatorsModule: NativeModule<ValidatorsMsgs> & { validatorSet(r: ModuleReader): Validator[] | undefined } = {
  id: VALIDATORS_MODULE_ID,
  name: 'validators',
  methods: {
    propose: { id: 1, args: struct<{ validators: Validator[] }>({ validators: validatorSetCodec }, ['validators']), signer: 'any', validateBasic: (a) => validateSet(a.validators) },
    approve: { id: 2, args: struct<{ proposal: Uint8Array }>({ proposal: bytes32 }, ['proposal']), signer: 'any' },
  },
  handlers: {
    propose(ctx, { validators }) {
      const current = readSet(ctx.state)!;
      const by = senderIndex(current, ctx.sender);
      if (bytesEqual(validatorSetHash(validators), validatorSetHash(current))) throw new ProtocolError(VALIDATORS_ERR.SAME_SET, 'the proposed set is the current set');
      const id = proposalId(validators);
      const raw = ctx.state.get(proposalKey(id));
      const p: Proposal = raw ? decode(proposalCodec, raw, 'proposal') : { set: validators, approvals: [], createdHeight: ctx.block.height };
      if (!raw) ctx.emit('proposed', { proposal: id, by, members: validators.length });
      approve(ctx.state, current, id, p, by, ctx.block.height, ctx.emit);
    },
    approve(ctx, { proposal }) {
      const current = readSet(ctx.state)!;
      const by = senderIndex(current, ctx.sender);
      const raw = ctx.state.get(proposalKey(proposal));
      if (!raw) throw new ProtocolError(VALIDATORS_ERR.UNKNOWN_PROPOSAL, `no open proposal ${toHex(proposal)}`);
      approve(ctx.state, current, proposal, decode(proposalCodec, raw, 'proposal'), by, ctx.block.height, ctx.emit);
    },
  },
  queries: {
    /** {} → {validators, hash, pending?}: the set in force for the next block. */
    current: defineQuery({
      args: struct<Record<string, never>>({}, []),
      provable: true,
      run(ctx) {
        const set = readSet(ctx.state) ?? [];
        const pending = readPending(ctx.state);
        return {
          validators: validatorSetCodec.toJson(set),
          hash: toHex(validatorSetHash(set)),
          pending: pending ? { effectiveHeight: pending.effectiveHeight, validators: validatorSetCodec.toJson(pending.set) } : null,
        };
      },
    }),
    /** {proposal} → {validators, approvals} or null. */
    proposal: defineQuery({
      args: struct<{ proposal: Uint8Array }>({ proposal: bytes32 }, ['proposal']),
      provable: true,
      run(ctx, { proposal }) {
        const raw = ctx.state.get(proposalKey(proposal));
        if (!raw) return null;
        const p = decode(proposalCodec, raw, 'proposal');
        return { validators: validatorSetCodec.toJson(p.set), approvals: p.approvals, createdHeight: p.createdHeight };
      },
    }),
  },
  genesis(ctx) {
    ctx.state.set(K_CURRENT, encode(validatorSetCodec, ctx.validators));
    ctx.state.set(historyKey(1), encode(validatorSetCodec, ctx.validators));
  },
  async endBlock(ctx) {
    const pending = readPending(ctx.state);
    if (!pending || pending.effectiveHeight > ctx.block.height + 1) return;
    // from the next block on, the new set signs: switch now so the next header names it
    ctx.state.set(K_CURRENT, encode(validatorSetCodec, pending.set));
    ctx.state.set(historyKey(pending.effectiveHeight), encode(validatorSetCodec, pending.set));
    ctx.state.delete(K_PENDING);
    // approvals were counted by index in the old set: open proposals lapse (bounded by MAX proposals seen)
    const stale: Uint8Array[] = [];
    for await (const [k] of ctx.state.entries(P_PROPOSAL, { limit: 1024 })) stale.push(k);
    for (const k of stale) ctx.state.delete(k);
    ctx.emit('changed', { effectiveHeight: pending.effectiveHeight, members: pending.set.length, hash: validatorSetHash(pending.set) });
  },
  async invariants(r) {
    const set = readSet(r);
    if (!set || set.length === 0) return ['validators: no current set'];
    try {
      validateSet(set);
    } catch (e) {
      return [`validators: current set invalid: ${(e as Error).message}`];
    }
    return [];
  },
  validatorSet: readSet,
};

void validatorCodec;
