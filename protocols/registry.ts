// The module list and their permanent numeric ids. Ids and method ids are part of the transaction
// format: never renumber, only add.
import type { NativeModule, ReaderAccess } from './module.js';
import { bankModule, bankKeeper, readAccount, moduleAddress, FEE_COLLECTOR } from './bank/index.js';
import { createIdentityModule, identityKeeper, caGovernance } from './identity/index.js';
import { createReputationModule, reputationKeeper } from './reputation/index.js';
import { receiptsModule } from './receipts/index.js';
import { createValidatorsModule } from './validators/index.js';

export const MODULE_IDS = {
  bank: 1,
  identity: 2,
  reputation: 3,
  receipts: 4,
  market: 5,
  learning: 6,
  validators: 7,
} as const;

/**
 * The bank's escrow API as the other modules' deps.ts declare it (the one place where modules'
 * keepers are wired into each other). Name and vote fees go to the fee collector.
 */
const bankDeps = {
  escrowDeposit: bankKeeper.escrowDeposit,
  escrowRelease: bankKeeper.escrowRelease,
  escrowBalance: (access: ReaderAccess, module: string) => readAccount(access, moduleAddress(module)).balance,
  feeSink: FEE_COLLECTOR,
};

/** Modules in execution order (end-of-block hooks run in this order). */
export function defaultModules(): NativeModule[] {
  const identity = createIdentityModule({ bank: bankDeps, reputation: reputationKeeper });
  const reputation = createReputationModule({ bank: bankDeps, identity: identityKeeper });
  return [
    bankModule as unknown as NativeModule,
    identity as unknown as NativeModule,
    reputation as unknown as NativeModule,
    receiptsModule as unknown as NativeModule,
    createValidatorsModule({ identity: caGovernance }) as unknown as NativeModule,
  ];
}

export interface ModuleIndex {
  byId: Map<number, NativeModule>;
  byName: Map<string, NativeModule>;
  list: NativeModule[];
}

export function indexModules(modules: NativeModule[]): ModuleIndex {
  const byId = new Map<number, NativeModule>();
  const byName = new Map<string, NativeModule>();
  for (const m of modules) {
    if (byId.has(m.id) || byName.has(m.name)) throw new Error(`duplicate module ${m.id}/${m.name}`);
    const ids = new Set<number>();
    for (const [name, def] of Object.entries(m.methods)) {
      const id = (def as { id: number }).id;
      if (ids.has(id)) throw new Error(`module ${m.name}: duplicate method id ${id} (${name})`);
      ids.add(id);
    }
    byId.set(m.id, m);
    byName.set(m.name, m);
  }
  return { byId, byName, list: modules };
}

/** Finds a method by module and method name (CLI, client) or ids (execution). */
export function methodByName(index: ModuleIndex, module: string, method: string) {
  const m = index.byName.get(module);
  const def = m ? (m.methods as Record<string, { id: number }>)[method] : undefined;
  return m && def ? { module: m, name: method, def } : undefined;
}

export function methodById(index: ModuleIndex, moduleId: number, methodId: number) {
  const m = index.byId.get(moduleId);
  if (!m) return undefined;
  for (const [name, def] of Object.entries(m.methods as Record<string, { id: number }>)) if (def.id === methodId) return { module: m, name, def };
  return undefined;
}
