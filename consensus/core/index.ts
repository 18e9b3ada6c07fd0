// The pure PBFT core: step(state, input) → {state, out}. See consensus/README.md.
export { step } from './step.js';
export { createState } from './state.js';
export {
  defaultParams,
  checkParams,
  faultTolerance,
  quorum,
  weakQuorum,
  primaryOf,
  timeoutFor,
  DEFAULT_TIMEOUT_BASE_MS,
  DEFAULT_TIMEOUT_MAX_EXPONENT,
  DEFAULT_TIMEOUT_MAX_MS,
} from './params.js';
export { certificatesOf, checkMessageShape, checkNewViewRules, highestCertificate } from './validate.js';
export { FAULT_REASONS, BENIGN_REASONS } from './types.js';
export type * from './types.js';
