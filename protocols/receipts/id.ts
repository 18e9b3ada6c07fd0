/** Permanent module id (protocols/registry.ts MODULE_IDS.receipts). */
export const RECEIPTS_MODULE_ID = 4;
