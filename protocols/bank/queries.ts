import { struct, bytes20, str, type Codec } from '../../lib/encoding.js';
import { defineQuery, type AnyQuery } from '../module.js';
import { BankReader } from './store.js';
import { moduleAddress } from './keys.js';

const addressArgs: Codec<{ address: Uint8Array }> = struct<{ address: Uint8Array }>({ address: bytes20 }, ['address']);

export const queries: Record<string, AnyQuery> = {
  /** {address} → {balance, nonce} (decimal string balance). */
  balance: defineQuery({
    args: addressArgs,
    provable: true,
    run(ctx, { address }) {
      const a = new BankReader(ctx.state).account(address);
      return { balance: a.balance.toString(10), nonce: a.nonce };
    },
  }),
  /** {} → {supply} */
  supply: defineQuery({
    args: struct<Record<string, never>>({}, []),
    provable: true,
    run(ctx) {
      return { supply: new BankReader(ctx.state).supply().toString(10) };
    },
  }),
  /** {module} → {address, balance}: a module's escrow account. */
  escrow: defineQuery({
    args: struct<{ module: string }>({ module: str(32) }, ['module']),
    provable: true,
    run(ctx, { module }) {
      const address = moduleAddress(module);
      return { address: '0x' + Buffer.from(address).toString('hex'), balance: new BankReader(ctx.state).balance(address).toString(10) };
    },
  }),
};
