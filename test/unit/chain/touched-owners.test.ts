/**
 * TouchedOwners: the address index's rows of a tx, each owner once with the outputs it receives,
 * compared byte by byte for a few owners and through a map past 16, in arrays reused between txs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TouchedOwners } from '../../../services/node/chain/touched-owners.ts';
import { ownerOf } from '../../../shared/core/address.ts';
import { toHex } from '../../../shared/core/bytes.ts';
import { coinbase, makeKey, out, signed, spend } from '../../helpers/chain.ts';

const rows = (t: TouchedOwners) =>
  Array.from({ length: t.count }, (_, i) => [toHex(t.owners[i]!), [...t.vouts[i]!]] as const);

/** An owner made of one repeated byte (a copy each time: equal bytes, not the same array). */
const owner = (b: number) => new Uint8Array(20).fill(b);

describe('TouchedOwners', () => {
  it("lists a transfer's sender once, with the change it gets back, and the receiver", () => {
    const alice = makeKey();
    const bob = makeKey();
    const prev = new Uint8Array(32).fill(7);
    const d = signed({
      version: 1,
      kind: 'transfer',
      inputs: [spend(alice, prev, 0), spend(alice, prev, 1)],
      outputs: [out(bob.owner, 5), out(alice.owner, 3), out(bob.owner, 1)],
    });
    const t = new TouchedOwners().of(d);
    assert.deepEqual(rows(t), [
      [toHex(alice.owner), [1]],
      [toHex(bob.owner), [0, 2]],
    ]);
    // the input owners computed ahead give the same rows without hashing the keys
    assert.deepEqual(
      rows(new TouchedOwners().of(d, [ownerOf(alice.pubkey), ownerOf(alice.pubkey)])),
      rows(t),
    );
  });

  it('past 16 owners, finds repeats through its map; a smaller tx after it starts clean', () => {
    const outputs = [];
    for (let i = 0; i < 40; i++) outputs.push(out(owner(i % 20), 1 + i));
    const t = new TouchedOwners();
    t.of(coinbase(1, outputs));
    assert.equal(t.count, 20);
    for (let i = 0; i < 20; i++) assert.deepEqual(rows(t)[i], [toHex(owner(i)), [i, i + 20]]);

    t.of(coinbase(2, [out(owner(3), 1), out(owner(4), 1), out(owner(3), 1)]));
    assert.deepEqual(rows(t), [
      [toHex(owner(3)), [0, 2]],
      [toHex(owner(4)), [1]],
    ]);
  });
});
