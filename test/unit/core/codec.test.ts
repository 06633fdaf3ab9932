import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeBlock, encodeBlock } from '../../../shared/core/block/codec.ts';
import { decodeHeader, encodeHeader } from '../../../shared/core/block/header.ts';
import { HEADER_SIZE } from '../../../shared/core/block/types.ts';
import { Writer } from '../../../shared/core/encoding/writer.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { decodeTx, encodeTx, encodeUnsignedTx } from '../../../shared/core/tx/codec.ts';
import type { Transaction } from '../../../shared/core/tx/types.ts';
import { arbHeader, arbTx, normalize } from '../../helpers/arbitraries.ts';

/** Runs `fn`; anything it throws must be our DecodeError naming a field. */
function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      throw new Error(`threw ${String(e)} instead of DecodeError`);
    }
    assert.ok(e.field.length > 0);
  }
}

const sampleTransfer: Transaction = {
  version: 1,
  kind: 'transfer',
  inputs: [
    {
      prevTxid: new Uint8Array(32).fill(1),
      vout: 3,
      pubkey: new Uint8Array(33).fill(2),
      signature: new Uint8Array(64).fill(3),
    },
  ],
  outputs: [{ owner: new Uint8Array(20).fill(4), amount: 5000, bitmark: { type: 'none' } }],
};

describe('transaction codec', () => {
  it('decode(encode(tx)) == tx for every kind (property)', () => {
    fc.assert(
      fc.property(arbTx, (tx) => {
        const raw = encodeTx(tx);
        const d = decodeTx(raw);
        assert.deepEqual(normalize(d.tx), normalize(tx));
        assert.deepEqual(d.raw, raw);
        assert.deepEqual(d.txid, sha256d(raw));
        assert.deepEqual(d.raw.subarray(0, d.unsignedLength), encodeUnsignedTx(tx));
      }),
      { numRuns: 500 },
    );
  });

  it('decoding random bytes throws nothing but DecodeError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => onlyDecodeErrors(() => decodeTx(b))),
      { numRuns: 3000 },
    );
  });

  it('decoding mutated valid encodings throws nothing but DecodeError (property)', () => {
    fc.assert(
      fc.property(arbTx, fc.nat(), fc.nat(255), (tx, pos, byte) => {
        const raw = encodeTx(tx);
        raw[pos % raw.length] = byte;
        onlyDecodeErrors(() => decodeTx(raw));
      }),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a valid tx is decode-truncated', () => {
    fc.assert(
      fc.property(arbTx, (tx) => {
        const raw = encodeTx(tx);
        for (let n = 0; n < raw.length; n++) {
          assert.throws(
            () => decodeTx(raw.subarray(0, n)),
            (e: unknown) =>
              e instanceof DecodeError && (e.code === 'decode-truncated' || e.code === 'decode-too-large'),
          );
        }
      }),
      { numRuns: 100 },
    );
  });

  it('trailing bytes are rejected', () => {
    const raw = encodeTx(sampleTransfer);
    const longer = new Uint8Array(raw.length + 1);
    longer.set(raw);
    assert.throws(
      () => decodeTx(longer),
      (e: unknown) => e instanceof DecodeError && e.code === 'decode-trailing-bytes',
    );
  });

  it('unknown kind and unknown bitmark tag name their field', () => {
    const raw = encodeTx(sampleTransfer);
    raw[1] = 9;
    assert.throws(
      () => decodeTx(raw),
      (e: unknown) => e instanceof DecodeError && e.field === 'tx.kind',
    );
    const raw2 = encodeTx(sampleTransfer);
    raw2[raw2.length - 65] = 7; // the output's bitmark tag sits right before the signature
    assert.throws(
      () => decodeTx(raw2),
      (e: unknown) => e instanceof DecodeError && e.field === 'output.bitmark',
    );
  });

  it('oversized fields are refused at their cap', () => {
    const w = new Writer().varint(1).u8(2).varBytes(new Uint8Array(65)); // asset name of 65 bytes
    assert.throws(
      () => decodeTx(w.finish()),
      (e: unknown) => e instanceof DecodeError && e.code === 'decode-too-large' && e.field === 'asset.name',
    );
    const cb = new Writer().varint(1).u8(0).varint(1).varBytes(new Uint8Array(65));
    assert.throws(
      () => decodeTx(cb.finish()),
      (e: unknown) => e instanceof DecodeError && e.field === 'coinbase.data',
    );
    assert.throws(
      () => decodeTx(new Uint8Array(1_000_001)),
      (e: unknown) => e instanceof DecodeError && e.code === 'decode-too-large',
    );
  });

  it('a list count larger than the bytes left could hold is refused before allocation', () => {
    const w = new Writer()
      .varint(1)
      .u8(1)
      .varint(2 ** 40);
    assert.throws(
      () => decodeTx(w.finish()),
      (e: unknown) =>
        e instanceof DecodeError && e.code === 'decode-too-large' && e.field === 'tx.inputs.count',
    );
  });

  it('asset names must be valid UTF-8', () => {
    const w = new Writer()
      .varint(1)
      .u8(2)
      .varBytes(Uint8Array.from([0xc3, 0x28]));
    assert.throws(
      () => decodeTx(w.finish()),
      (e: unknown) => e instanceof DecodeError && e.code === 'decode-bad-value' && e.field === 'asset.name',
    );
  });
});

describe('block header codec', () => {
  it('is 88 bytes and round-trips (property)', () => {
    fc.assert(
      fc.property(arbHeader, (h) => {
        const raw = encodeHeader(h);
        assert.equal(raw.length, HEADER_SIZE);
        assert.deepEqual(normalize(decodeHeader(raw)), normalize(h));
      }),
    );
  });

  it('rejects wrong lengths', () => {
    assert.throws(
      () => decodeHeader(new Uint8Array(87)),
      (e: unknown) => e instanceof DecodeError && e.code === 'decode-truncated',
    );
    assert.throws(
      () => decodeHeader(new Uint8Array(89)),
      (e: unknown) => e instanceof DecodeError && e.code === 'decode-trailing-bytes',
    );
  });
});

describe('block codec', () => {
  it('decode(encode(block)) == block (property)', () => {
    fc.assert(
      fc.property(arbHeader, fc.array(arbTx, { maxLength: 5 }), (h, txs) => {
        const raw = encodeBlock(h, txs);
        const b = decodeBlock(raw);
        assert.deepEqual(normalize(b.header), normalize(h));
        assert.deepEqual(normalize(b.txs.map((t) => t.tx)), normalize(txs));
        assert.deepEqual(b.hash, sha256d(raw.subarray(0, HEADER_SIZE)));
        assert.deepEqual(encodeBlock(b.header, b.txs), raw);
      }),
      { numRuns: 200 },
    );
  });

  it('decoding random or mutated bytes throws nothing but DecodeError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => onlyDecodeErrors(() => decodeBlock(b))),
      { numRuns: 2000 },
    );
    const genesis = LOCAL.genesisBlock;
    fc.assert(
      fc.property(fc.nat(), fc.nat(255), fc.nat(genesis.length), (pos, byte, cut) => {
        const b = Uint8Array.from(genesis);
        b[pos % b.length] = byte;
        onlyDecodeErrors(() => decodeBlock(b.subarray(0, cut)));
        onlyDecodeErrors(() => decodeBlock(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects trailing bytes and blocks over the encoding cap', () => {
    const g = LOCAL.genesisBlock;
    const longer = new Uint8Array(g.length + 3);
    longer.set(g);
    assert.throws(
      () => decodeBlock(longer),
      (e: unknown) => e instanceof DecodeError && e.code === 'decode-trailing-bytes',
    );
    assert.throws(
      () => decodeBlock(new Uint8Array(8_000_001)),
      (e: unknown) => e instanceof DecodeError && e.code === 'decode-too-large',
    );
  });
});

describe('asset name bytes', () => {
  it('a leading UTF-8 BOM is kept as U+FEFF, not dropped (so the name rule sees it)', () => {
    const name = Uint8Array.from([0xef, 0xbb, 0xbf, 0x41]);
    const w = new Writer()
      .varint(1)
      .u8(2)
      .varBytes(name)
      .varBytes(Uint8Array.of(1))
      .varBytes(new Uint8Array())
      .varint(0)
      .varint(0);
    const d = decodeTx(w.finish());
    assert.equal(d.tx.kind === 'asset' && d.tx.asset.name, '\ufeffA');
  });
});
