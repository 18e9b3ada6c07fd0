import t from 'tap';
import type { Logger } from '@libp2p/interface';
import { YamuxStream, StreamState } from '@chainsafe/libp2p-yamux/stream';
import { installYamuxHalfWindowUpdates, uninstallYamuxHalfWindowUpdates } from '../../../node/yamuxWindow.js';

const WINDOW = 256 * 1024; // the library's initial stream window
const DATA = 0;
const WINDOW_UPDATE = 1;
const SYN = 1;

// a silent logger of the shape libp2p streams use
const log: Logger = Object.assign(() => undefined, { enabled: false, trace: () => undefined, error: () => undefined, newScope: () => log }) as unknown as Logger;

interface Sent {
  type: number;
  flag: number;
  length: number;
}

function stream(state: StreamState, rtt = -1): { s: YamuxStream; sent: Sent[] } {
  const sent: Sent[] = [];
  const s = new YamuxStream({
    id: '1',
    streamId: 1,
    state,
    direction: 'inbound',
    log,
    getRTT: () => rtt,
    sendFrame: (h) => {
      sent.push({ type: h.type, flag: h.flag, length: h.length });
      return true;
    },
  });
  return { s, sent };
}

/** A data frame as the muxer hands it over (typed as a Uint8ArrayList; the read buffer appends a Uint8Array just as well). */
function receive(s: YamuxStream, bytes: number): void {
  s.handleData({ header: { type: DATA, flag: 0, streamID: 1, length: bytes, version: 0 }, data: new Uint8Array(bytes) as never });
}

const updates = (sent: Sent[]): Sent[] => sent.filter((f) => f.type === WINDOW_UPDATE);

t.test("the library's own behaviour: one window update per data frame (why this exists)", async (t) => {
  uninstallYamuxHalfWindowUpdates();
  const { s, sent } = stream(StreamState.Established);
  for (let i = 0; i < 10; i++) receive(s, 1000);
  t.equal(updates(sent).length, 10, 'ten frames, ten updates');
});

t.test('installed: an update only once half the window has been received', async (t) => {
  installYamuxHalfWindowUpdates();
  installYamuxHalfWindowUpdates(); // idempotent
  t.teardown(uninstallYamuxHalfWindowUpdates);
  const { s, sent } = stream(StreamState.Established);
  const frame = 16 * 1024;
  for (let i = 0; i < 7; i++) receive(s, frame);
  t.equal(updates(sent).length, 0, '112 KiB of 256 KiB received: no update yet');
  receive(s, frame);
  t.same(updates(sent), [{ type: WINDOW_UPDATE, flag: 0, length: 8 * frame }], 'at half the window, one update returning all the credit used');
  for (let i = 0; i < 7; i++) receive(s, frame);
  t.equal(updates(sent).length, 1, 'the window is full again: the next half starts over');
  receive(s, frame);
  t.equal(updates(sent).length, 2);
  // the sender may use the whole window between two updates; none is refused
  const { s: s2, sent: sent2 } = stream(StreamState.Established);
  receive(s2, WINDOW / 2 - 1);
  t.equal(updates(sent2).length, 0);
  receive(s2, WINDOW / 2 + 1);
  t.same(updates(sent2), [{ type: WINDOW_UPDATE, flag: 0, length: WINDOW }], 'a full window in two frames, then all of it back');
  t.throws(() => {
    const { s: s3 } = stream(StreamState.Established);
    receive(s3, WINDOW + 1);
  }, /Receive window exceeded/, 'the receive limit itself is unchanged');
});

t.test('installed: opening and acknowledging a stream still send their flag at once', async (t) => {
  installYamuxHalfWindowUpdates();
  t.teardown(uninstallYamuxHalfWindowUpdates);
  const { s, sent } = stream(StreamState.Init);
  s.sendWindowUpdate();
  t.same(sent, [{ type: WINDOW_UPDATE, flag: SYN, length: 0 }], 'SYN with no credit to return');
  const { s: inbound, sent: ack } = stream(StreamState.SYNReceived);
  receive(inbound, 10);
  t.equal(ack.length, 1, 'the first frame of an inbound stream is acknowledged at once');
  t.equal(ack[0]!.flag, 2, 'ACK');
  receive(inbound, 10);
  t.equal(ack.length, 1, 'later small frames are not');
});

t.test('installed: a paused stream returns no credit; resuming returns it once half is used', async (t) => {
  installYamuxHalfWindowUpdates();
  t.teardown(uninstallYamuxHalfWindowUpdates);
  const { s, sent } = stream(StreamState.Established);
  s.sendPause();
  receive(s, WINDOW * 0.75);
  t.equal(updates(sent).length, 0, 'paused: the sender runs out of credit and stops');
  s.sendResume();
  t.same(updates(sent), [{ type: WINDOW_UPDATE, flag: 0, length: WINDOW * 0.75 }], 'resumed: the credit comes back');
  const { s: s2, sent: sent2 } = stream(StreamState.Established);
  s2.sendPause();
  receive(s2, 1000);
  s2.sendResume();
  t.equal(updates(sent2).length, 0, 'resumed with most of the window free: nothing to send yet');
});

t.test('installed: the window doubles when the data since the last update was read within 4 round trips', async (t) => {
  installYamuxHalfWindowUpdates();
  t.teardown(uninstallYamuxHalfWindowUpdates);
  const { s, sent } = stream(StreamState.Established, 1_000_000); // a huge RTT: every epoch is "fast"
  receive(s, WINDOW / 2);
  t.same(updates(sent), [{ type: WINDOW_UPDATE, flag: 0, length: WINDOW * 1.5 }], 'window 512 KiB: the half used plus the new 256 KiB');
  receive(s, WINDOW);
  t.same(updates(sent).at(-1), { type: WINDOW_UPDATE, flag: 0, length: WINDOW * 3 }, 'then 1 MiB');
});
