// The one registry of top-level key prefixes in a node's LevelDB. Each is one byte and permanent.
// Module state lives under STATE ‖ moduleId (u16 BE) ‖ module key; only STATE keys are authenticated.
export const PREFIX = {
  /** flat module state: 0x01 ‖ moduleId(2) ‖ key → value (the authenticated tree commits to these) */
  STATE: 0x01,
  /** authenticated tree internals (buckets, nodes, roots) */
  TREE: 0x02,
  /** blocks by height: 0x03 ‖ height(8) → encoded block */
  BLOCK: 0x03,
  /** commit certificates by height: 0x04 ‖ height(8) → encoded certificate */
  CERT: 0x04,
  /** tx results by height: 0x05 ‖ height(8) → encoded results list */
  RESULTS: 0x05,
  /** tx index: 0x06 ‖ txId(32) → [height, index] */
  TX_INDEX: 0x06,
  /** chain metadata (head height, genesis hash, …): 0x07 ‖ name */
  META: 0x07,
  /** block hash → height: 0x08 ‖ hash(32) → height(8) */
  BLOCK_HASH: 0x08,
  /** consensus evidence (equivocations): 0x09 ‖ … */
  EVIDENCE: 0x09,
} as const;

export function prefixed(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 1;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  out[0] = prefix;
  let o = 1;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
