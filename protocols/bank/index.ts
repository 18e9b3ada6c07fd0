import type { NativeModule } from '../module.js';
import { transferArgsCodec, decodeTransferArgs, validateTransfer } from './codec.js';
import { handlers } from './handlers.js';
import { queries } from './queries.js';
import { genesis } from './genesis.js';
import { invariants } from './invariants.js';
import { BANK_MODULE_ID } from './id.js';
import type { BankMsgs } from './types.js';

export const bankModule: NativeModule<BankMsgs> = {
  id: BANK_MODULE_ID,
  name: 'bank',
  methods: {
    transfer: { id: 1, args: transferArgsCodec, decodeArgs: decodeTransferArgs, signer: 'any', readsIdentity: false, validateBasic: validateTransfer },
  },
  handlers,
  queries,
  genesis,
  invariants,
};

export { BANK_MODULE_ID } from './id.js';
export { bankKeeper, chargeFeeAndNonce, collectFees, readAccount, type BankKeeper } from './keeper.js';
export { moduleAddress, FEE_COLLECTOR } from './keys.js';
export { BANK_ERR } from './errors.js';
export type { Account, TransferArgs, BankMsgs } from './types.js';
