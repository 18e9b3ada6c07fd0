// Genesis of the validators module: the chain's genesis validator set, in force from height 1.
// The module takes no genesis section of its own.
import { InvalidMessageError } from '../../lib/errors.js';
import type { GenesisContext } from '../module.js';
import { validateSet } from './codec.js';
import { VALIDATORS_ERR } from './errors.js';
import { ValidatorsStore } from './store.js';

export function genesis(ctx: GenesisContext, config: unknown): void {
  if (config !== undefined && !(typeof config === 'object' && config !== null && Object.keys(config).length === 0)) {
    throw new InvalidMessageError(VALIDATORS_ERR.BAD_SET, 'genesis modules.validators takes no settings; the set is genesis.validators');
  }
  validateSet(ctx.validators);
  new ValidatorsStore(ctx.state).setCurrent(ctx.validators, 1);
}
