// Yamux receive-window updates once half the window is used, instead of after every data frame.
//
// @chainsafe/libp2p-yamux 8.0.1 (the newest) answers every data frame it receives with a
// window-update frame: `sendWindowUpdate` sends whenever the free receive window is below the
// window size. Each of those is one more Noise-encrypted frame and socket write on the receiver and
// one more frame to decrypt and dispatch on the sender: at 4 validators every consensus message and
// tx gossip batch cost two frames. The yamux spec leaves the timing to the receiver; hashicorp/yamux
// (Go) and rust-yamux send an update once half the window is consumed, as this does. Measured:
// BENCHMARKS.md, session 10 (≈ 5 % less validator CPU per tx).
//
// Installed by replacing YamuxStream.prototype.sendWindowUpdate (the package exports the class as
// `@chainsafe/libp2p-yamux/stream`); `installYamuxHalfWindowUpdates` is idempotent and called by
// node/p2p.ts before libp2p starts. It relies on the stream's fields as of 8.0.1, checked here and by
// test/unit/node/yamuxWindow.test.ts, so an upgrade that renames them fails loudly, not silently.
import { YamuxStream, StreamState } from '@chainsafe/libp2p-yamux/stream';

/** Frame type of a yamux window update (spec: type 0x1). */
const WINDOW_UPDATE = 1;

/** The fields of YamuxStream this replacement reads and writes (private in its typings). */
interface StreamWindow {
  state: StreamState;
  recvWindow: number;
  recvWindowCapacity: number;
  maxStreamWindowSize: number;
  epochStart: number;
  streamId: number;
  getRTT(): number;
  getSendFlags(): number;
  sendFrame(header: { type: number; flag: number; streamID: number; length: number }): void;
}

const ORIGINAL = Symbol.for('iotchain.yamux.sendWindowUpdate');

/**
 * Sends a window update when the stream opens or is acknowledged (a flag must go out), or once at
 * most half of the receive window is left. The auto-tuning is the library's: the window doubles
 * (up to maxStreamWindowSize) when the data since the last update was read within 4 round trips.
 */
function sendWindowUpdate(this: StreamWindow): void {
  if (this.state === StreamState.Paused) {
    // no credit while paused; the epoch restarts so the auto-tuning does not count the pause
    this.epochStart = Date.now();
    return;
  }
  const flags = this.getSendFlags();
  if (flags === 0 && this.recvWindowCapacity * 2 > this.recvWindow) return;
  const now = Date.now();
  const rtt = this.getRTT();
  if (flags === 0 && rtt > -1 && now - this.epochStart <= rtt * 4) this.recvWindow = Math.min(this.recvWindow * 2, this.maxStreamWindowSize);
  const delta = this.recvWindow - this.recvWindowCapacity;
  this.recvWindowCapacity = this.recvWindow;
  this.epochStart = now;
  this.sendFrame({ type: WINDOW_UPDATE, flag: flags, streamID: this.streamId, length: delta });
}

export function installYamuxHalfWindowUpdates(): void {
  const proto = YamuxStream.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[ORIGINAL] !== undefined) return;
  for (const m of ['sendWindowUpdate', 'getSendFlags', 'handleData']) {
    if (typeof proto[m] !== 'function') throw new Error(`@chainsafe/libp2p-yamux: YamuxStream.${m} is gone; node/yamuxWindow.ts needs updating`);
  }
  proto[ORIGINAL] = proto.sendWindowUpdate;
  proto.sendWindowUpdate = sendWindowUpdate;
}

/** Puts the library's own sendWindowUpdate back (tests compare the two). */
export function uninstallYamuxHalfWindowUpdates(): void {
  const proto = YamuxStream.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[ORIGINAL] === undefined) return;
  proto.sendWindowUpdate = proto[ORIGINAL];
  delete proto[ORIGINAL];
}
