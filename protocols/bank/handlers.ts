import { ProtocolError } from '../../lib/errors.js';
import type { Handler } from '../module.js';
import { bytesEqual } from '../../lib/hex.js';
import { BankStore } from './store.js';
import type { BankMsgs } from './types.js';
import { BANK_ERR } from './errors.js';

export const handlers: { [K in keyof BankMsgs]: Handler<BankMsgs[K]> } = {
  transfer(ctx, { to, amount }) {
    if (bytesEqual(to, ctx.sender)) throw new ProtocolError(BANK_ERR.SELF_TRANSFER, 'cannot transfer to yourself');
    new BankStore(ctx.state).move(ctx.sender, to, amount);
    ctx.emit('transfer', { from: ctx.sender, to, amount });
  },
};
