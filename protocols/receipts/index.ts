// The receipts native module (paper §4.2.2 StoreRootHash / VerifyRootHash; SPEC §5.4). This file and
// the ones it imports are the on-chain half; the off-chain half (rows, signature chains, data stores,
// anchoring daemon, auditor) lives beside it and is never imported from here.
import type { NativeModule } from '../module.js';
import { storeRootHashArgsCodec, validateStoreRootHash } from './codec.js';
import { handlers } from './handlers.js';
import { RECEIPTS_MODULE_ID } from './id.js';
import { invariants } from './invariants.js';
import { queries } from './queries.js';
import type { ReceiptsMsgs } from './types.js';

export const receiptsModule: NativeModule<ReceiptsMsgs> = {
  id: RECEIPTS_MODULE_ID,
  name: 'receipts',
  methods: {
    storeRootHash: { id: 1, args: storeRootHashArgsCodec, signer: 'online', validateBasic: validateStoreRootHash },
  },
  handlers,
  queries,
  invariants,
};

export { RECEIPTS_MODULE_ID } from './id.js';
export { RECEIPTS_ERR } from './errors.js';
export { TABLE_NAME_RE, MAX_SUBTABLES } from './types.js';
export type { AnchorMeta, AnchorRecord, AnchorJson, StoreRootHashArgs, TableHead, TableHeadJson, ReceiptsMsgs } from './types.js';
