/** Permanent module id (protocols/registry.ts MODULE_IDS lists them all). */
export const IDENTITY_MODULE_ID = 2;
