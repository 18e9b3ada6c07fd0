// Invariants of the validators module, checked after every block in tests.
import type { ModuleReader } from '../module.js';
import { validateSet } from './codec.js';
import { ValidatorsReader } from './store.js';

export async function invariants(r: ModuleReader): Promise<string[]> {
  const reader = new ValidatorsReader(r);
  const set = reader.current();
  if (!set || set.length === 0) return ['validators: no current set'];
  const out: string[] = [];
  try {
    validateSet(set);
  } catch (e) {
    out.push(`validators: current set invalid: ${(e as Error).message}`);
  }
  const pending = reader.pending();
  if (pending) {
    try {
      validateSet(pending.set);
    } catch (e) {
      out.push(`validators: pending set invalid: ${(e as Error).message}`);
    }
  }
  return out;
}
