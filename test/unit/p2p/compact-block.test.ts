/**
 * Compact blocks: the codec, the short ids (SipHash-2-4 against its reference vectors, the key
 * as BIP152 derives it) and rebuilding a block from a mempool: complete, with missing
 * transactions, with short-id collisions (in the block, in the mempool) and with a wrong match.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CompactBlock,
  compactBlock,
  decodeBlockTxns,
  decodeCompactBlock,
  decodeCompactReply,
  encodeBlockTxns,
  encodeCompactBlock,
  encodeCompactReply,
  shortId,
  shortIdKey,
} from '../../../services/node/p2p/compact-block.ts';
import { PartialBlock } from '../../../services/node/p2p/partial-block.ts';
import { siphash24, sipKey } from '../../../services/node/p2p/siphash.ts';
import { decodeBlock } from '../../../shared/core/block/codec.ts';
import { HEADER_SIZE } from '../../../shared/core/block/types.ts';
import { toHex } from '../../../shared/core/bytes.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import type { DecodedTx } from '../../../shared/core/tx/types.ts';
import { makeEnv, payFee, SUBSIDY } from '../../helpers/reservoir.ts';

const seq = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
const le64 = ([lo, hi]: [number, number]) => {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(lo, 0);
  b.writeUInt32LE(hi, 4);
  return b.toString('hex');
};

describe('SipHash-2-4', () => {
  it('matches the reference vectors (key 00..0f, message 00..n-1)', () => {
    const k = sipKey(seq(16));
    // vectors_sip64 of the SipHash reference code; OpenSSL's SIPHASH (size 8) gives the same
    assert.equal(le64(siphash24(k, seq(0))), '310e0edd47db6f72');
    assert.equal(le64(siphash24(k, seq(1))), 'fd67dc93c539f874');
    assert.equal(le64(siphash24(k, seq(15))), 'e545be4961ca29a1');
    assert.equal(le64(siphash24(k, seq(32))), 'ce7cf2722f512771');
  });
});

/** A block of `n` transfers (plus its coinbase), and the transfers. */
function blockOf(n: number) {
  const env = makeEnv({}, n);
  const txs = env.funds.slice(0, n).map((f) => payFee(env.alice, [f, 0], SUBSIDY, 1000));
  return { block: env.ledger.nextBlock(txs, env.bob.owner), txs };
}

describe('compact block codec', () => {
  it('round-trips header, nonce, short ids and prefilled transactions (differential indexes)', () => {
    const { block, txs } = blockOf(5);
    const known = new Set([0, 1, 3].map((i) => toHex(txs[i]!.txid)));
    const c = compactBlock(block, 0x0102030405060708n, (id) => known.has(toHex(id)));
    assert.deepEqual(
      c.prefilled.map((p) => p.index),
      [0, 3, 5],
      'the coinbase and the transfers the peer is not known to have go whole',
    );
    assert.equal(c.shortIds.length, 3);
    const raw = encodeCompactBlock(c);
    const d = decodeCompactBlock(raw);
    assert.equal(toHex(d.rawHeader), toHex(block.raw.subarray(0, HEADER_SIZE)));
    assert.equal(d.nonce, c.nonce);
    assert.deepEqual(d.shortIds, c.shortIds);
    assert.deepEqual(
      d.prefilled.map((p) => [p.index, toHex(p.tx.raw)]),
      c.prefilled.map((p) => [p.index, toHex(p.tx.raw)]),
    );
    assert.equal(toHex(encodeCompactBlock(d)), toHex(raw));
    // 88 header + 8 nonce + 1 + 3 × 6 short ids + 1 + prefilled (index varints + txs)
    const prefilledBytes = c.prefilled.reduce((s, p) => s + 1 + p.tx.raw.length, 0);
    assert.equal(raw.length, 88 + 8 + 1 + 18 + 1 + prefilledBytes);
  });

  it('refuses truncation, trailing bytes, prefilled indexes beyond the block and an empty block', () => {
    const { block } = blockOf(2);
    const raw = encodeCompactBlock(compactBlock(block, 7n, () => true));
    assert.throws(() => decodeCompactBlock(raw.subarray(0, raw.length - 1)), DecodeError);
    assert.throws(() => decodeCompactBlock(Uint8Array.of(...raw, 0)), DecodeError);
    // 2 short ids and 1 prefilled: slots 0..2; move the coinbase (index delta byte) to slot 3
    const at = 88 + 8 + 1 + 12 + 1;
    const bad = Uint8Array.from(raw);
    bad[at] = 3;
    assert.throws(() => decodeCompactBlock(bad), /cmpctblock.prefilled.index/);
    const empty = Uint8Array.of(...raw.subarray(0, 96), 0, 0);
    assert.throws(() => decodeCompactBlock(empty), /at least a coinbase/);
  });

  it('encodes blocktxn and the replies', () => {
    const { block, txs } = blockOf(3);
    const m = decodeBlockTxns(encodeBlockTxns({ hash: block.hash, txs: [txs[0]!, txs[2]!] }));
    assert.equal(toHex(m.hash), toHex(block.hash));
    assert.deepEqual(
      m.txs.map((t) => toHex(t.txid)),
      [txs[0]!, txs[2]!].map((t) => toHex(t.txid)),
    );
    for (const r of [
      { status: 'accepted' as const },
      { status: 'rejected' as const },
      { status: 'want-block' as const },
      { status: 'want-txs' as const, indexes: [1, 2, 7, 300] },
    ])
      assert.deepEqual(decodeCompactReply(encodeCompactReply(r)), r);
    assert.equal(
      toHex(encodeCompactReply({ status: 'want-txs', indexes: [1, 2, 7, 300] })),
      '0404010004a402',
    );
    assert.throws(() => decodeCompactReply(Uint8Array.of(9)), DecodeError);
  });
});

describe('short ids (BIP152 keying)', () => {
  it('the key is SHA-256(header ‖ nonce LE) and an id is the low 48 bits of SipHash-2-4 (vector)', () => {
    const header = LOCAL.genesisBlock.subarray(0, HEADER_SIZE);
    const key = shortIdKey(header, 0x0102030405060708n);
    assert.equal(Buffer.from(key.buffer).toString('hex'), 'e95930ac93f56da788d12440d16de5ad');
    const id = shortId(key, seq(32));
    assert.ok(id < 2 ** 48 && Number.isInteger(id));
    assert.equal(id, SHORT_ID_VECTOR);
    // the whole compact form of the local genesis block (coinbase prefilled, no short ids)
    const genesis = decodeBlock(LOCAL.genesisBlock);
    assert.equal(
      toHex(encodeCompactBlock(compactBlock(genesis, 0x0102030405060708n, () => true))),
      `${toHex(header)}0807060504030201000100${toHex(genesis.txs[0]!.raw)}`,
    );
    // another nonce, another id: a sender's fresh nonce per block makes collisions unrepeatable
    assert.notEqual(shortId(shortIdKey(header, 0x0102030405060709n), seq(32)), id);
  });
});

/** The vector of docs/protocol.md §10.13 (LOCAL genesis header, nonce 0x0102030405060708, txid 00..1f). */
const SHORT_ID_VECTOR = 0x3f72b91dd8bd;

describe('rebuilding from a mempool', () => {
  it('rebuilds a block whose transactions are all in the mempool, without asking for any', () => {
    const { block, txs } = blockOf(6);
    const p = new PartialBlock(decodeCompactBlock(encodeCompactBlock(compactBlock(block, 1n, () => true))));
    p.fillFrom([...txs].reverse());
    assert.deepEqual(p.missing(), []);
    const b = p.build();
    assert.ok(typeof b !== 'string');
    assert.equal(toHex(b.raw), toHex(block.raw));
    assert.equal(toHex(b.hash), toHex(block.hash));
    assert.equal(p.fromMempool, 6);
  });

  it('asks for exactly the transactions the mempool lacks, then rebuilds', () => {
    const { block, txs } = blockOf(6);
    const p = new PartialBlock(compactBlock(block, 2n, () => true));
    p.fillFrom([txs[0]!, txs[2]!, txs[5]!]);
    assert.deepEqual(p.missing(), [2, 4, 5], 'block indexes (the coinbase is slot 0)');
    assert.throws(() => p.fillMissing([2, 4, 5], [txs[1]!]), /1 sent, 3 asked for/);
    p.fillMissing([2, 4, 5], [txs[1]!, txs[3]!, txs[4]!]);
    const b = p.build();
    assert.ok(typeof b !== 'string');
    assert.equal(toHex(b.raw), toHex(block.raw));
  });

  it('a wrong transaction sent for a slot fails the merkle check (the full block is asked for)', () => {
    const { block, txs } = blockOf(3);
    const p = new PartialBlock(compactBlock(block, 3n, () => true));
    p.fillFrom([txs[0]!, txs[1]!]);
    p.fillMissing(p.missing(), [txs[0]!]);
    assert.equal(p.build(), 'merkle-mismatch');
  });

  it('two equal short ids in the block: no rebuild, the full block is asked for', () => {
    const { block } = blockOf(3);
    const c = compactBlock(block, 4n, () => true);
    const collided: CompactBlock = { ...c, shortIds: [c.shortIds[0]!, c.shortIds[0]!, c.shortIds[2]!] };
    const p = new PartialBlock(collided);
    assert.equal(p.collided, true);
    assert.equal(p.build(), 'short-id-collision');
  });

  describe('mempool collisions (a 2-bit short id makes them certain)', () => {
    const narrow = (txid: Uint8Array) => txid[0]! & 3;
    /** A block of 3 transfers whose narrow ids differ, and a mempool tx colliding with one of them. */
    function setup() {
      for (let n = 6; ; n++) {
        const { block, txs } = blockOf(n);
        const inBlock = txs.slice(0, 3);
        const ids = inBlock.map((t) => narrow(t.txid));
        if (new Set(ids).size < 3) continue;
        const stranger = txs.slice(3).find((t) => narrow(t.txid) === ids[1]);
        if (stranger === undefined) continue;
        void block;
        return { inBlock, stranger };
      }
    }

    it('two mempool transactions on one short id: that slot is asked for, not guessed', () => {
      const env = setup();
      const { block, txs } = narrowBlock(env.inBlock);
      const p = new PartialBlock({
        ...compactBlock(block, 5n, () => true),
        shortIds: txs.map((t) => narrow(t.txid)),
      });
      p.fillFrom([env.inBlock[0]!, env.inBlock[1]!, env.stranger, env.inBlock[2]!], narrow);
      assert.deepEqual(p.missing(), [2], 'slot 2 (the second transfer) is ambiguous');
      p.fillMissing([2], [env.inBlock[1]!]);
      const b = p.build();
      assert.ok(typeof b !== 'string');
      assert.equal(toHex(b.raw), toHex(block.raw));
    });

    it('a mempool transaction that only shares the short id: the merkle check catches it', () => {
      const env = setup();
      const { block, txs } = narrowBlock(env.inBlock);
      const p = new PartialBlock({
        ...compactBlock(block, 6n, () => true),
        shortIds: txs.map((t) => narrow(t.txid)),
      });
      p.fillFrom([env.inBlock[0]!, env.stranger, env.inBlock[2]!], narrow);
      assert.deepEqual(p.missing(), []);
      assert.equal(p.build(), 'merkle-mismatch');
    });
  });
});

/** A block of exactly these transfers (their funds are mature in a fresh env's ledger of the same keys). */
function narrowBlock(txs: DecodedTx[]) {
  const env = makeEnv({}, 1);
  return { block: env.ledger.nextBlock(txs, env.bob.owner), txs };
}
