// Reader and writer over the validators module's state.
import { decode, encode, type Codec } from '../../lib/encoding.js';
import type { ModuleReader, ModuleStore } from '../module.js';
import type { Validator } from '../../state/block.js';
import { validatorSetCodec } from '../../state/block.js';
import { caProposalCodec, pendingCodec, setProposalCodec } from './codec.js';
import { caProposalKey, historyKey, K_CURRENT, K_PENDING, setProposalKey } from './keys.js';
import type { CaProposal, Pending, SetProposal } from './types.js';

export class ValidatorsReader {
  constructor(protected readonly r: ModuleReader) {}

  protected read<T>(codec: Codec<T>, key: Uint8Array, what: string): T | undefined {
    const raw = this.r.get(key);
    return raw ? decode(codec, raw, what) : undefined;
  }

  current(): Validator[] | undefined {
    return this.read(validatorSetCodec, K_CURRENT, 'validator set');
  }

  pending(): Pending | undefined {
    return this.read(pendingCodec, K_PENDING, 'pending validator set');
  }

  setProposal(id: Uint8Array): SetProposal | undefined {
    return this.read(setProposalCodec, setProposalKey(id), 'validator-set proposal');
  }

  caProposal(id: Uint8Array): CaProposal | undefined {
    return this.read(caProposalCodec, caProposalKey(id), 'CA proposal');
  }
}

export class ValidatorsStore extends ValidatorsReader {
  constructor(private readonly s: ModuleStore) {
    super(s);
  }

  private write<T>(codec: Codec<T>, key: Uint8Array, v: T | undefined): void {
    if (v === undefined) this.s.delete(key);
    else this.s.set(key, encode(codec, v));
  }

  setCurrent(set: Validator[], fromHeight: number): void {
    this.write(validatorSetCodec, K_CURRENT, set);
    this.write(validatorSetCodec, historyKey(fromHeight), set);
  }

  setPending(p: Pending | undefined): void {
    this.write(pendingCodec, K_PENDING, p);
  }

  setSetProposal(id: Uint8Array, p: SetProposal | undefined): void {
    this.write(setProposalCodec, setProposalKey(id), p);
  }

  setCaProposal(id: Uint8Array, p: CaProposal | undefined): void {
    this.write(caProposalCodec, caProposalKey(id), p);
  }
}
