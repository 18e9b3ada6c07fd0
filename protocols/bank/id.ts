/** Permanent module id (protocols/registry.ts lists them all). */
export const BANK_MODULE_ID = 1;
