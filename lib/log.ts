// The structured logger interface every component takes (injected; pure code does not log).
// node/ adapts pino to it once (node/node.ts); tests pass NO_LOG or a recorder.
export interface Log {
  debug(msg: string, obj?: object): void;
  info(msg: string, obj?: object): void;
  warn(msg: string, obj?: object): void;
  error(msg: string, obj?: object): void;
}

export const NO_LOG: Log = { debug() {}, info() {}, warn() {}, error() {} };
