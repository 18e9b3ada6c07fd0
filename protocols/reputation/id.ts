/** Permanent module id (protocols/registry.ts MODULE_IDS lists them all). */
export const REPUTATION_MODULE_ID = 3;
