/** A transaction announced by several peers at once is asked of one only, until the claim lapses. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AskedTxs } from '../../../services/node/p2p/asked-txs.ts';

const txid = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? n : 0));

it('asks once per transaction within the window, again after it, and forgets the oldest beyond max', () => {
  const asked = new AskedTxs(2_000, 3);
  assert.equal(asked.claim(txid(1), 1_000), true, 'the first announcer is asked');
  assert.equal(asked.claim(txid(1), 2_999), false, 'a second announcer 2 s later at most is not');
  assert.equal(asked.claim(txid(2), 2_999), true, 'another transaction is');
  assert.equal(asked.claim(txid(1), 3_000), true, 'the claim lapsed: ask again');
  asked.claim(txid(3), 3_000);
  asked.claim(txid(4), 3_000);
  assert.equal(asked.size, 3, 'bounded');
  assert.equal(asked.claim(txid(2), 3_001), true, 'the oldest claim (tx 2) was forgotten first');
});
