// The validators module (id 7): validator-set changes (SPEC §2) and CA-set changes (SPEC §5.1), both
// approved by 2f+1 current validators signing with their P-256 consensus keys. See README.md.
import type { NativeModule, ModuleReader } from '../module.js';
import type { Validator } from '../../state/block.js';
import { argsCodecs, validateSet } from './codec.js';
import { makeHandlers } from './handlers.js';
import { queries } from './queries.js';
import { genesis } from './genesis.js';
import { endBlock } from './endBlock.js';
import { invariants } from './invariants.js';
import { ValidatorsReader } from './store.js';
import type { ValidatorsDeps } from './deps.js';
import type { ValidatorsMsgs } from './types.js';

export const VALIDATORS_MODULE_ID = 7;

export type ValidatorsModule = NativeModule<ValidatorsMsgs> & { validatorSet(r: ModuleReader): Validator[] | undefined };

/** Builds the module over its dependencies (protocols/registry.ts wires them). Method ids are permanent. */
export function createValidatorsModule(deps: ValidatorsDeps = {}): ValidatorsModule {
  return {
    id: VALIDATORS_MODULE_ID,
    name: 'validators',
    methods: {
      propose: { id: 1, args: argsCodecs.propose, signer: 'any', validateBasic: (a) => validateSet(a.validators) },
      approve: { id: 2, args: argsCodecs.approve, signer: 'any' },
      proposeAddCa: { id: 3, args: argsCodecs.proposeAddCa, signer: 'any' },
      proposeRemoveCa: { id: 4, args: argsCodecs.proposeRemoveCa, signer: 'any' },
    },
    handlers: makeHandlers(deps),
    queries,
    genesis,
    endBlock,
    invariants,
    validatorSet: (r) => new ValidatorsReader(r).current(),
  };
}

export { VALIDATORS_ERR } from './errors.js';
export { ACTIVATION_DELAY } from './handlers.js';
export { proposalId, caProposalId, validateSet } from './codec.js';
export { CaAction, type CaChange, type ValidatorsMsgs } from './types.js';
export type { ValidatorsDeps, ValidatorsIdentityDeps } from './deps.js';
