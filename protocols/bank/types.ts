export interface Account {
  balance: bigint;
  /** Next expected transaction nonce. */
  nonce: number;
}

export interface TransferArgs {
  to: Uint8Array;
  amount: bigint;
}

export interface BankMsgs {
  transfer: TransferArgs;
}

export interface BankGenesis {
  balances: { address: string; amount: string }[];
}
