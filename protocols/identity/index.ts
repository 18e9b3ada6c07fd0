// The identity module (SPEC §5.1, paper §3.2.1): offline identities, online keys with history,
// names with commit–reveal and expiry, web-of-trust vouches with incentives. Public surface only.
import type { NativeModule } from '../module.js';
import type { SignerResolver } from '../execute.js';
import { argsCodecs, validators } from './codec.js';
import { makeHandlers } from './handlers.js';
import { makeEndBlock } from './endBlock.js';
import { makeInvariants } from './invariants.js';
import { queries } from './queries.js';
import { genesis } from './genesis.js';
import { resolveSigner } from './keeper.js';
import { IDENTITY_MODULE_ID } from './id.js';
import type { IdentityDeps } from './deps.js';
import type { IdentityMsgs } from './types.js';

export type IdentityModule = NativeModule<IdentityMsgs> & { resolveSigner: SignerResolver };

/** Builds the module over its dependencies (protocols/registry.ts wires them). Method ids are permanent. */
export function createIdentityModule(deps: IdentityDeps): IdentityModule {
  const c = argsCodecs;
  const v = validators;
  return {
    id: IDENTITY_MODULE_ID,
    name: 'identity',
    methods: {
      submitPublicKey: { id: 1, args: c.submitPublicKey, signer: 'offline', validateBasic: v.submitPublicKey },
      addIncentive: { id: 2, args: c.addIncentive, signer: 'offline', validateBasic: v.addIncentive },
      updatePublicKey: { id: 3, args: c.updatePublicKey, signer: 'offline', validateBasic: v.updatePublicKey },
      closePublicKey: { id: 4, args: c.closePublicKey, signer: 'offline' },
      commitDomainName: { id: 5, args: c.commitDomainName, signer: 'offline' },
      submitDomainName: { id: 6, args: c.submitDomainName, signer: 'offline', validateBasic: v.submitDomainName },
      renewDomainName: { id: 7, args: c.renewDomainName, signer: 'any', validateBasic: v.renewDomainName },
      updateDomainName: { id: 8, args: c.updateDomainName, signer: 'offline', validateBasic: v.updateDomainName },
      takeOverDomainName: { id: 9, args: c.takeOverDomainName, signer: 'offline', validateBasic: v.takeOverDomainName },
      vouchKey: { id: 10, args: c.vouchKey, signer: 'offline', validateBasic: v.vouchKey },
      unvouchKey: { id: 11, args: c.unvouchKey, signer: 'offline' },
      claimIncentive: { id: 12, args: c.claimIncentive, signer: 'offline' },
    },
    handlers: makeHandlers(deps),
    queries,
    genesis,
    endBlock: makeEndBlock(deps),
    invariants: makeInvariants(deps),
    resolveSigner,
  };
}

export { IDENTITY_MODULE_ID } from './id.js';
export { IDENTITY_ERR } from './errors.js';
export { identityKeeper, caGovernance, resolveSigner, type IdentityKeeper, type ActiveKey, type DomainView } from './keeper.js';
export { keyValidAt, type KeyPeriod, type NameState, type KeyState } from './status.js';
export { popMessage, signPop, verifyPop, nameCommitment, NAME_COMMIT_TAG } from './messages.js';
export { nameSyntaxError, parseEndpoint, type ParsedEndpoint } from './syntax.js';
export { certificateFacts, type CertificateFactsArgs } from './queries.js';
export { DEFAULT_IDENTITY_PARAMS } from './genesis.js';
export { ESCROW as IDENTITY_ESCROW, type IdentityDeps, type IdentityBankDeps, type IdentityReputationDeps } from './deps.js';
export type { IdentityMsgs, IdentityParams, IdentityRecord, KeyHistoryEntry, DomainRecord, KeyArgs, SubmitDomainArgs } from './types.js';
