import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as m from '../../services/node/p2p/messages.ts';
import { DecodeError } from '../../shared/core/errors.ts';
import { normalize } from '../helpers/arbitraries.ts';

const b = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const hello = fc.record({
  version: fc.nat(0xffffffff),
  genesis: b(32),
  nodeKey: b(32),
  listen: fc.array(fc.string({ maxLength: 30 }), { maxLength: 8 }),
  tipHash: b(32),
  height: fc.maxSafeNat(),
  work: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  userAgent: fc.string({ maxLength: 20 }),
  time: fc.maxSafeNat(),
  nonce: b(8),
  proof: b(32),
});

function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

describe('P2P messages', () => {
  it('round-trip (property)', () => {
    fc.assert(
      fc.property(hello, (h) => assert.deepEqual(normalize(m.decodeHello(m.encodeHello(h))), normalize(h))),
    );
    // a pruned node's hello carries its prune height (an optional trailing field)
    fc.assert(
      fc.property(hello, fc.integer({ min: 1, max: 2 ** 32 }), (h, pruneHeight) =>
        assert.deepEqual(
          normalize(m.decodeHello(m.encodeHello({ ...h, pruneHeight }))),
          normalize({ ...h, pruneHeight }),
        ),
      ),
    );
    fc.assert(
      fc.property(fc.array(b(32), { maxLength: 64 }), b(32), (locator, stop) =>
        assert.deepEqual(
          normalize(m.decodeGetHeaders(m.encodeGetHeaders({ locator, stop }))),
          normalize({ locator, stop }),
        ),
      ),
    );
    fc.assert(
      fc.property(fc.array(b(32), { maxLength: 50 }), fc.array(b(32), { maxLength: 50 }), (blocks, txs) =>
        assert.deepEqual(normalize(m.decodeInv(m.encodeInv({ blocks, txs }))), normalize({ blocks, txs })),
      ),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ key: b(32), addresses: fc.array(fc.string({ maxLength: 20 }), { maxLength: 8 }) }),
          { maxLength: 20 },
        ),
        (peers) => assert.deepEqual(normalize(m.decodePeers(m.encodePeers(peers))), normalize(peers)),
      ),
    );
    assert.deepEqual(m.decodeWant(m.encodeWant([0, 3], [1])), { blocks: [0, 3], txs: [1] });
    assert.equal(m.decodePushReply(m.encodePushReply('orphan')), 'orphan');
  });

  it('random bytes never throw anything but DecodeError (property)', () => {
    const decoders = [
      m.decodeHello,
      m.decodeGetHeaders,
      m.decodeHeaders,
      m.decodeGetBlocks,
      m.decodeBlocks,
      m.decodeInv,
      m.decodeWant,
      m.decodePeers,
      m.decodePing,
      m.decodePushReply,
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const d of decoders) onlyDecodeErrors(() => d(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('caps: more than 16 blocks per getblocks, more than 2000 headers, oversized fields are refused', () => {
    const many = Array.from({ length: 17 }, () => new Uint8Array(32));
    assert.throws(() => m.decodeGetBlocks(m.encodeGetBlocks(many)), DecodeError);
    assert.throws(
      () => m.decodeHeaders(m.encodeHeaders(Array.from({ length: 2001 }, () => new Uint8Array(88)))),
      DecodeError,
    );
    assert.throws(
      () =>
        m.decodeHello(
          m.encodeHello({
            version: 1,
            genesis: new Uint8Array(32),
            nodeKey: new Uint8Array(32),
            listen: ['x'.repeat(101)],
            tipHash: new Uint8Array(32),
            height: 0,
            work: 0n,
            userAgent: '',
            time: 0,
            nonce: new Uint8Array(8),
            proof: new Uint8Array(32),
          }),
        ),
      DecodeError,
    );
  });
});

describe('txs (protocol 2: several transactions per push)', () => {
  it('round-trips transactions and their statuses, and refuses more than the limit', async () => {
    const { makeEnv, payFee, SUBSIDY } = await import('../helpers/reservoir.ts');
    const env = makeEnv({}, 3);
    const txs = env.funds.map((f) => payFee(env.alice, [f, 0], SUBSIDY, 1000));
    const back = m.decodeTxs(m.encodeTxs(txs.map((t) => t.raw)));
    assert.deepEqual(
      back.map((t) => Buffer.from(t.txid).toString('hex')),
      txs.map((t) => Buffer.from(t.txid).toString('hex')),
    );
    const statuses: m.PushStatus[] = ['accepted', 'duplicate', 'rejected'];
    assert.deepEqual(m.decodeTxsReply(m.encodeTxsReply(statuses)), statuses);
    assert.equal(Buffer.from(m.encodeTxsReply(statuses)).toString('hex'), '03000103');
    const raw = m.encodeTxs(txs.map((t) => t.raw));
    assert.throws(() => m.decodeTxs(raw.subarray(0, raw.length - 1)), DecodeError);
    // a count above LIMITS.txsPerPush is refused before anything is read
    const tooMany = Uint8Array.of(0xe9, 0x07, ...raw.subarray(1)); // 1001
    assert.throws(() => m.decodeTxs(tooMany), /txs.count/);
  });
});
