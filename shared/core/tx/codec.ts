/** Canonical byte encoding of transactions (docs/protocol.md §Transaction encoding). */

import { Reader } from '../encoding/reader.ts';
import { Writer } from '../encoding/writer.ts';
import { DecodeError } from '../errors.ts';
import { sha256d } from '../hash.ts';
import {
  HASH_SIZE,
  MAX_ASSET_FINGERPRINT,
  MAX_ASSET_METADATA,
  MAX_ASSET_NAME,
  MAX_COINBASE_DATA,
  MAX_TX_SIZE,
  MIN_INPUT_SIZE,
  MIN_OUTPUT_SIZE,
  OWNER_SIZE,
  PUBKEY_SIZE,
  SIGNATURE_SIZE,
} from '../limits.ts';
import type { PreparedHashes } from './prepared.ts';
import {
  type DecodedTx,
  MINT,
  NO_BITMARK,
  type OutputBitmark,
  type Transaction,
  type TxInput,
  TxKind,
  type TxOutput,
} from './types.ts';

const BITMARK_NONE = 0;
const BITMARK_CARRY = 1;
const BITMARK_MINT = 2;
const BITMARK_SHARES = 3;

const utf8 = new TextEncoder();

/** Encodes the signed part (everything but the signatures) then the signatures. */
export function encodeTx(tx: Transaction): Uint8Array {
  return writeTx(tx).raw;
}

function writeTx(tx: Transaction): { raw: Uint8Array; unsignedLength: number } {
  const w = new Writer(256);
  writeUnsigned(w, tx);
  const unsignedLength = w.length;
  if (tx.kind !== 'coinbase') {
    for (const i of tx.inputs) {
      w.bytes(i.signature);
    }
  }
  return { raw: w.finish(), unsignedLength };
}

/** The bytes signatures commit to: the encoding without its trailing signatures. */
export function encodeUnsignedTx(tx: Transaction): Uint8Array {
  const w = new Writer(256);
  writeUnsigned(w, tx);
  return w.finish();
}

function writeUnsigned(w: Writer, tx: Transaction): void {
  w.varint(tx.version).u8(TxKind[tx.kind]);
  switch (tx.kind) {
    case 'coinbase':
      w.varint(tx.height).varBytes(tx.data);
      break;
    case 'asset':
      w.varBytes(utf8.encode(tx.asset.name)).varBytes(tx.asset.fingerprint).varBytes(tx.asset.metadata);
      break;
    case 'issue':
      w.bytes(tx.assetId);
      break;
    case 'split':
      w.bytes(tx.bitmarkId).varint(tx.total);
      break;
    case 'transfer':
      break;
  }
  if (tx.kind !== 'coinbase') {
    w.varint(tx.inputs.length);
    for (const i of tx.inputs) {
      w.bytes(i.prevTxid).varint(i.vout).bytes(i.pubkey);
    }
  }
  w.varint(tx.outputs.length);
  for (const o of tx.outputs) {
    writeOutput(w, o);
  }
}

function writeOutput(w: Writer, o: TxOutput): void {
  w.bytes(o.owner).varint(o.amount);
  switch (o.bitmark.type) {
    case 'none':
      w.u8(BITMARK_NONE);
      break;
    case 'carry':
      w.u8(BITMARK_CARRY).bytes(o.bitmark.id);
      break;
    case 'mint':
      w.u8(BITMARK_MINT);
      break;
    case 'shares':
      w.u8(BITMARK_SHARES).bytes(o.bitmark.id).varint(o.bitmark.quantity);
      break;
  }
}

/** Decodes one whole transaction; any deviation from the canonical encoding is a DecodeError. */
export function decodeTx(raw: Uint8Array): DecodedTx {
  if (raw.length > MAX_TX_SIZE) {
    throw new DecodeError('decode-too-large', 'tx', `${raw.length} bytes > ${MAX_TX_SIZE}`);
  }
  const r = new Reader(raw);
  const d = readTx(r, raw);
  r.end('tx');
  return d;
}

/**
 * Reads a transaction from a stream (inside a block): `buf` is the whole buffer the reader is over.
 * `known`: its txid and input owners computed ahead for these very bytes (a prepared block).
 */
export function readTx(r: Reader, buf: Uint8Array, known?: PreparedHashes): DecodedTx {
  const start = r.position;
  const version = r.varint('tx.version');
  const kindByte = r.u8('tx.kind');
  let tx: Transaction;
  let unsignedEnd: number;
  switch (kindByte) {
    case TxKind.coinbase: {
      const height = r.varint('coinbase.height');
      const data = r.varBytes('coinbase.data', MAX_COINBASE_DATA);
      const outputs = readOutputs(r);
      unsignedEnd = r.position;
      tx = { version, kind: 'coinbase', height, data, outputs };
      break;
    }
    case TxKind.transfer: {
      const inputs = readInputs(r);
      const outputs = readOutputs(r);
      unsignedEnd = r.position;
      tx = { version, kind: 'transfer', inputs: readSignatures(r, inputs), outputs };
      break;
    }
    case TxKind.asset: {
      const name = r.utf8('asset.name', MAX_ASSET_NAME);
      const fingerprint = r.varBytes('asset.fingerprint', MAX_ASSET_FINGERPRINT);
      const metadata = r.varBytes('asset.metadata', MAX_ASSET_METADATA);
      const inputs = readInputs(r);
      const outputs = readOutputs(r);
      unsignedEnd = r.position;
      tx = {
        version,
        kind: 'asset',
        asset: { name, fingerprint, metadata },
        inputs: readSignatures(r, inputs),
        outputs,
      };
      break;
    }
    case TxKind.issue: {
      const assetId = r.bytes(HASH_SIZE, 'issue.assetId');
      const inputs = readInputs(r);
      const outputs = readOutputs(r);
      unsignedEnd = r.position;
      tx = { version, kind: 'issue', assetId, inputs: readSignatures(r, inputs), outputs };
      break;
    }
    case TxKind.split: {
      const bitmarkId = r.bytes(HASH_SIZE, 'split.bitmarkId');
      const total = r.varint('split.total');
      const inputs = readInputs(r);
      const outputs = readOutputs(r);
      unsignedEnd = r.position;
      tx = { version, kind: 'split', bitmarkId, total, inputs: readSignatures(r, inputs), outputs };
      break;
    }
    default:
      throw new DecodeError('decode-bad-value', 'tx.kind', `unknown kind ${kindByte}`);
  }
  const end = r.position;
  if (end - start > MAX_TX_SIZE) {
    throw new DecodeError('decode-too-large', 'tx', `${end - start} bytes > ${MAX_TX_SIZE}`);
  }
  const bytes = buf.subarray(start, end);
  if (known === undefined)
    return { tx, raw: bytes, txid: sha256d(bytes), unsignedLength: unsignedEnd - start };
  const txid = known.nextTxid();
  const unsignedLength = unsignedEnd - start;
  if (tx.kind === 'coinbase') return { tx, raw: bytes, txid, unsignedLength };
  return { tx, raw: bytes, txid, unsignedLength, inputOwners: known.nextOwners(tx.inputs.length) };
}

interface UnsignedInput {
  prevTxid: Uint8Array;
  vout: number;
  pubkey: Uint8Array;
}

function readInputs(r: Reader): UnsignedInput[] {
  const n = r.count('tx.inputs.count', Math.floor(r.remaining / MIN_INPUT_SIZE));
  const inputs: UnsignedInput[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const prevTxid = r.bytes(HASH_SIZE, 'input.prevTxid');
    const vout = r.varint('input.vout', 0xffffffff);
    const pubkey = r.bytes(PUBKEY_SIZE, 'input.pubkey');
    inputs[i] = { prevTxid, vout, pubkey };
  }
  return inputs;
}

function readSignatures(r: Reader, inputs: UnsignedInput[]): TxInput[] {
  const out: TxInput[] = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const u = inputs[i]!;
    out[i] = {
      prevTxid: u.prevTxid,
      vout: u.vout,
      pubkey: u.pubkey,
      signature: r.bytes(SIGNATURE_SIZE, 'input.signature'),
    };
  }
  return out;
}

function readOutputs(r: Reader): TxOutput[] {
  const n = r.count('tx.outputs.count', Math.floor(r.remaining / MIN_OUTPUT_SIZE));
  const outputs: TxOutput[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const owner = r.bytes(OWNER_SIZE, 'output.owner');
    const amount = r.varint('output.amount');
    const tag = r.u8('output.bitmark');
    let bitmark: OutputBitmark;
    if (tag === BITMARK_NONE) {
      bitmark = NO_BITMARK;
    } else if (tag === BITMARK_CARRY) {
      bitmark = { type: 'carry', id: r.bytes(HASH_SIZE, 'output.bitmark.id') };
    } else if (tag === BITMARK_MINT) {
      bitmark = MINT;
    } else if (tag === BITMARK_SHARES) {
      const id = r.bytes(HASH_SIZE, 'output.shares.id');
      bitmark = { type: 'shares', id, quantity: r.varint('output.shares.quantity') };
    } else {
      throw new DecodeError('decode-bad-value', 'output.bitmark', `unknown tag ${tag}`);
    }
    outputs[i] = { owner, amount, bitmark };
  }
  return outputs;
}

/** Decoded form of a transaction built in memory (wallets, templates). */
export function toDecodedTx(tx: Transaction): DecodedTx {
  const { raw, unsignedLength } = writeTx(tx);
  return { tx, raw, txid: sha256d(raw), unsignedLength };
}
