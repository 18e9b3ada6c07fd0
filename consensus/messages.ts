// Wire format and signatures of PBFT messages (the driver's half: the core never sees bytes).
// Every message is a canonical tuple [type tag, from, height, view, …, signature]. A Commit is signed
// over exactly commitVoteBytes(chainId, height, view, blockHash) (state/block.ts), so quorum()
// Commits form a certificate clients verify with verifyCommit. Every other message is signed over
// DOMAIN.consensusMsg ‖ encode([chainId, the message without its signature]); nested messages
// (a ViewChange's prepared certificate, a NewView's ViewChanges and PrePrepare) keep their own
// signatures and are verified one by one.
import { tuple, list, u8, u16, u53, bytes, bytes32, bytes64, optional, str, encode, decode, type Codec } from '../lib/encoding.js';
import { bytesEqual, concatBytes } from '../lib/hex.js';
import { DOMAIN } from '../crypto/hash.js';
import { signFast, verify } from '../crypto/sign.js';
import { KeyType, type KeyPair } from '../crypto/keys.js';
import { InvalidMessageError, ERR } from '../lib/errors.js';
import { blockHash, commitVoteBytes, decodeBlock, MAX_BLOCK_BYTES, MAX_VALIDATORS, type Validator } from '../state/block.js';
import { certificatesOf, type Commit, type ConsensusMessage, type NewView, type PrePrepare, type Prepare, type PreparedCertificate, type ViewChange } from './core/index.js';

const TAG = { PrePrepare: 1, Prepare: 2, Commit: 3, ViewChange: 4, NewView: 5 } as const;
const EMPTY_SIG = new Uint8Array(64);
/** Largest consensus message on the wire (a NewView carries up to n ViewChanges with blocks). */
export const MAX_CONSENSUS_MSG_BYTES = MAX_BLOCK_BYTES + 1024 * 1024;

type PrePrepareT = [number, number, number, number, Uint8Array, Uint8Array, Uint8Array];
type VoteT = [number, number, number, number, Uint8Array, Uint8Array];

const sig = bytes(64); // own messages are encoded unsigned (zero bytes) for signing
const prePrepareT = tuple<PrePrepareT>(u8, u16, u53, u53, bytes32, bytes(MAX_BLOCK_BYTES), sig);
const voteT = tuple<VoteT>(u8, u16, u53, u53, bytes32, sig);

const prePrepareCodec: Codec<PrePrepare> = {
  toPlain: (m) => prePrepareT.toPlain([TAG.PrePrepare, m.from, m.height, m.view, m.blockHash, m.payload, m.signature]),
  fromPlain(p, path) {
    const [tag, from, height, view, blockHash, payload, signature] = prePrepareT.fromPlain(p, path);
    if (tag !== TAG.PrePrepare) throw new InvalidMessageError(ERR.ENCODING, `${path}: expected a PrePrepare`);
    return { type: 'PrePrepare', from, height, view, blockHash, payload, signature };
  },
  toJson: () => {
    throw new Error('no JSON form');
  },
  fromJson: () => {
    throw new Error('no JSON form');
  },
};

function voteCodec<T extends Prepare | Commit>(type: T['type']): Codec<T> {
  const tag = TAG[type];
  return {
    toPlain: (m) => voteT.toPlain([tag, m.from, m.height, m.view, m.blockHash, m.signature]),
    fromPlain(p, path) {
      const [t, from, height, view, blockHash, signature] = voteT.fromPlain(p, path);
      if (t !== tag) throw new InvalidMessageError(ERR.ENCODING, `${path}: expected a ${type}`);
      return { type, from, height, view, blockHash, signature } as T;
    },
    toJson: () => {
      throw new Error('no JSON form');
    },
    fromJson: () => {
      throw new Error('no JSON form');
    },
  };
}
const prepareCodec = voteCodec<Prepare>('Prepare');
const commitCodec = voteCodec<Commit>('Commit');

type CertT = [number, Uint8Array, PrePrepare, Prepare[]];
const certT = tuple<CertT>(u53, bytes32, prePrepareCodec, list(prepareCodec, MAX_VALIDATORS));
const certCodec: Codec<PreparedCertificate> = {
  toPlain: (c) => certT.toPlain([c.view, c.blockHash, c.prePrepare, [...c.prepares]]),
  fromPlain(p, path) {
    const [view, blockHash, prePrepare, prepares] = certT.fromPlain(p, path);
    return { view, blockHash, prePrepare, prepares };
  },
  toJson: () => {
    throw new Error('no JSON form');
  },
  fromJson: () => {
    throw new Error('no JSON form');
  },
};

type ViewChangeT = [number, number, number, number, PreparedCertificate | undefined, Uint8Array];
const viewChangeT = tuple<ViewChangeT>(u8, u16, u53, u53, optional(certCodec), sig);
const viewChangeCodec: Codec<ViewChange> = {
  toPlain: (m) => viewChangeT.toPlain([TAG.ViewChange, m.from, m.height, m.newView, m.prepared, m.signature]),
  fromPlain(p, path) {
    const [tag, from, height, newView, prepared, signature] = viewChangeT.fromPlain(p, path);
    if (tag !== TAG.ViewChange) throw new InvalidMessageError(ERR.ENCODING, `${path}: expected a ViewChange`);
    return { type: 'ViewChange', from, height, newView, prepared, signature };
  },
  toJson: () => {
    throw new Error('no JSON form');
  },
  fromJson: () => {
    throw new Error('no JSON form');
  },
};

type NewViewT = [number, number, number, number, ViewChange[], PrePrepare, Uint8Array];
const newViewT = tuple<NewViewT>(u8, u16, u53, u53, list(viewChangeCodec, MAX_VALIDATORS), prePrepareCodec, sig);
const newViewCodec: Codec<NewView> = {
  toPlain: (m) => newViewT.toPlain([TAG.NewView, m.from, m.height, m.view, [...m.viewChanges], m.prePrepare, m.signature]),
  fromPlain(p, path) {
    const [tag, from, height, view, viewChanges, prePrepare, signature] = newViewT.fromPlain(p, path);
    if (tag !== TAG.NewView) throw new InvalidMessageError(ERR.ENCODING, `${path}: expected a NewView`);
    return { type: 'NewView', from, height, view, viewChanges, prePrepare, signature };
  },
  toJson: () => {
    throw new Error('no JSON form');
  },
  fromJson: () => {
    throw new Error('no JSON form');
  },
};

const byTag: Record<number, Codec<ConsensusMessage>> = {
  [TAG.PrePrepare]: prePrepareCodec as Codec<ConsensusMessage>,
  [TAG.Prepare]: prepareCodec as Codec<ConsensusMessage>,
  [TAG.Commit]: commitCodec as Codec<ConsensusMessage>,
  [TAG.ViewChange]: viewChangeCodec as Codec<ConsensusMessage>,
  [TAG.NewView]: newViewCodec as Codec<ConsensusMessage>,
};

/** Codec for any consensus message, dispatching on the leading type tag. */
export const consensusMessageCodec: Codec<ConsensusMessage> = {
  toPlain: (m) => byTag[TAG[m.type]]!.toPlain(m),
  fromPlain(p, path) {
    const tag = Array.isArray(p) ? p[0] : undefined;
    const c = typeof tag === 'number' ? byTag[tag] : undefined;
    if (!c) throw new InvalidMessageError(ERR.ENCODING, `${path}: unknown consensus message type`);
    return c.fromPlain(p, path);
  },
  toJson: () => {
    throw new Error('no JSON form');
  },
  fromJson: () => {
    throw new Error('no JSON form');
  },
};

export function encodeMessage(m: ConsensusMessage): Uint8Array {
  return encode(consensusMessageCodec, m);
}

export function decodeMessage(raw: Uint8Array): ConsensusMessage {
  return decode(consensusMessageCodec, raw, 'consensus message', MAX_CONSENSUS_MSG_BYTES);
}

const chainTag = (chainId: string) => encode(str(64), chainId);

/** The bytes a validator signs for `m` (its own signature field ignored). */
export function signBytes(chainId: string, m: ConsensusMessage): Uint8Array {
  if (m.type === 'Commit') return commitVoteBytes(chainId, m.height, m.view, m.blockHash);
  return concatBytes(DOMAIN.consensusMsg, chainTag(chainId), encodeMessage({ ...m, signature: EMPTY_SIG } as ConsensusMessage));
}

/** Signs an own message (a NewView's nested PrePrepare first, since the NewView's bytes include it). */
export function signMessage(chainId: string, key: Pick<KeyPair, 'type' | 'privateKey'>, m: ConsensusMessage): ConsensusMessage {
  let msg = m;
  if (msg.type === 'NewView' && isUnsigned(msg.prePrepare.signature)) {
    msg = { ...msg, prePrepare: signMessage(chainId, key, msg.prePrepare) as PrePrepare };
  }
  return { ...msg, signature: signFast(key, signBytes(chainId, msg)) } as ConsensusMessage;
}

function isUnsigned(s: Uint8Array): boolean {
  return s.length === 0 || s.every((b) => b === 0);
}

/**
 * Verifies a message's signature and every nested signature against the validator set. Returns a
 * reason on failure (the message is then dropped and its sender penalized), undefined when valid.
 */
export function verifyMessage(chainId: string, validators: Validator[], m: ConsensusMessage): string | undefined {
  const one = (x: ConsensusMessage): string | undefined => {
    const v = validators[x.from];
    if (!v) return `unknown validator index ${x.from}`;
    return verify(KeyType.p256, v.consensusKey, signBytes(chainId, x), x.signature) ? undefined : `bad ${x.type} signature from validator ${x.from}`;
  };
  const cert = (c: PreparedCertificate | undefined): string | undefined => {
    if (!c) return undefined;
    for (const x of [c.prePrepare, ...c.prepares]) {
      const r = one(x);
      if (r) return `prepared certificate: ${r}`;
    }
    return undefined;
  };
  const r = one(m);
  if (r) return r;
  if (m.type === 'ViewChange') return cert(m.prepared);
  if (m.type === 'NewView') {
    for (const vc of m.viewChanges) {
      const e = one(vc) ?? cert(vc.prepared);
      if (e) return `new-view: ${e}`;
    }
    return one(m.prePrepare);
  }
  return undefined;
}

/**
 * Checks that every prepared certificate a ViewChange or NewView carries holds the block it
 * certifies: its PrePrepare's payload decodes to a block whose header hashes to the certified hash.
 * A correct validator only prepares a block it executed, so a certificate that fails this was
 * assembled by a faulty one (its primary signed a PrePrepare naming another block's hash); carried
 * into a NewView it would make the next primary re-propose a block every replica rejects, view
 * after view. Equal payloads (the same block in several ViewChanges) are decoded once. Returns a
 * reason, or undefined.
 */
export function checkCertifiedBlocks(m: ConsensusMessage): string | undefined {
  const good: PreparedCertificate[] = [];
  for (const c of certificatesOf(m)) {
    if (!bytesEqual(c.prePrepare.blockHash, c.blockHash)) return `prepared certificate of validator ${c.prePrepare.from}: PrePrepare names another block`;
    if (good.some((g) => bytesEqual(g.blockHash, c.blockHash) && bytesEqual(g.prePrepare.payload, c.prePrepare.payload))) continue;
    let hash: Uint8Array;
    try {
      hash = blockHash(decodeBlock(c.prePrepare.payload).header);
    } catch (e) {
      return `prepared certificate for view ${c.view}: undecodable block (${e instanceof Error ? e.message : String(e)})`;
    }
    if (!bytesEqual(hash, c.blockHash)) return `prepared certificate for view ${c.view}: the block does not hash to the certified hash`;
    good.push(c);
  }
  return undefined;
}
