import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advertised } from '../../services/node/p2p/p2p.ts';
import { isDialable, PeerBook, ringTargets } from '../../services/node/p2p/peer-book.ts';
import { makeProbeIdentity } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';

describe('peer book', () => {
  it('only dialable addresses are kept; unspecified listen addresses are not advertised', () => {
    assert.ok(isDialable('127.0.0.1:2136') && isDialable('[::1]:2136') && isDialable('node-a:2136'));
    for (const bad of ['garbage', '0.0.0.0:2136', '[::]:2136', 'host:0', 'host:70000', 'a b:1'])
      assert.equal(isDialable(bad), false, bad);
    assert.deepEqual(advertised({ announce: [], listen: ['0.0.0.0:2136', '127.0.0.1:2136'] }), [
      '127.0.0.1:2136',
    ]);
    assert.deepEqual(advertised({ announce: ['198.51.100.7:2136'], listen: ['0.0.0.0:2136'] }), [
      '198.51.100.7:2136',
    ]);
  });

  it('bans at 100 points and keeps them across a save and load', async () => {
    const dir = tempDir();
    const me = makeProbeIdentity(dir.path, 'me').publicKey;
    const them = makeProbeIdentity(dir.path, 'them').publicKey;
    const book = new PeerBook(me);
    book.add(them, ['127.0.0.1:1234', 'garbage'], 'gossip', 1000);
    assert.deepEqual(book.get(them)?.addresses, ['127.0.0.1:1234']);
    assert.equal(book.misbehaved(them, 60, 'x', 1000, 3600), false);
    assert.equal(book.misbehaved(them, 40, 'y', 1000, 3600), true);
    assert.ok(book.isBanned(them, 2000) && !book.isBanned(them, 5000));
    assert.equal(book.add(me, ['127.0.0.1:1'], 'gossip', 1000), undefined, 'never ourselves');
    await book.save(`${dir.path}/peers.json`);
    const again = new PeerBook(me);
    assert.deepEqual(await again.load(`${dir.path}/peers.json`, 1500), { loaded: 1 });
    assert.ok(again.isBanned(them, 2000));
    dir.remove();
  });

  it('misbehaviour points fade: slips far apart never ban, a burst does', () => {
    const dir = tempDir();
    const me = makeProbeIdentity(dir.path, 'me').publicKey;
    const them = makeProbeIdentity(dir.path, 'them').publicKey;
    const book = new PeerBook(me);
    // 60 points an hour apart: the first has faded by the time of the second
    let t = 10_000;
    for (let i = 0; i < 5; i++, t += 3600) assert.equal(book.misbehaved(them, 60, 'slip', t, 3600), false);
    assert.ok(!book.isBanned(them, t));
    // half an hour after 60 points, 10 of them are left (100 fade per hour): 89 more are not a ban, 90 are
    const later = t - 3600 + 1800;
    assert.equal(book.misbehaved(them, 89, 'again', later, 3600), false);
    assert.equal(book.misbehaved(them, 1, 'once more', later, 3600), true);
    dir.remove();
  });

  it('ring targets follow bitmarkd’s offsets and never include ourselves', () => {
    const keys = Array.from({ length: 32 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const t = ringTargets('k00', keys, 8);
    assert.equal(t.length, 8);
    assert.ok(!t.includes('k00'));
    assert.deepEqual(t.slice(0, 2), ['k01', 'k03']);
    assert.deepEqual(ringTargets('k00', ['k00'], 8), []);
  });
});
