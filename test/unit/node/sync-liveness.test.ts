/**
 * Sync liveness (issue 11): a peer that holds its batches without answering must not hold the
 * sync (an idle peer asks for them too); a pass never rejects, even when storage fails under it;
 * passes that make no progress back off and a new reason to sync ends the back-off.
 * Peers are stand-ins for OutboundPeer serving a real chain (the faults injected: silence, errors).
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { StorageError } from '../../../services/node/db/errors.ts';
import type { OutboundPeer } from '../../../services/node/p2p/outbound.ts';
import { Sync } from '../../../services/node/p2p/sync.ts';
import { encodeHeader } from '../../../shared/core/block/header.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { silentLogger } from '../../../shared/log.ts';
import { MemoryLedger, makeKey } from '../../helpers/chain.ts';
import { openChain, tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-sync-live-');
after(() => dir.remove());

const HEIGHT = 80;
const miner = makeKey();
const ledger = new MemoryLedger();
for (let i = 0; i < HEIGHT; i++) ledger.apply(ledger.nextBlock([], miner.owner));
const blocks: DecodedBlock[] = ledger.blocks.slice(1);
const tip = blocks[blocks.length - 1]!;
const byHash = new Map(blocks.map((b) => [Buffer.from(b.hash).toString('hex'), b.raw]));

type Behaviour = 'serve' | 'silent' | 'fail';
interface TestPeer extends OutboundPeer {
  calls: number;
  release(): void;
}

function peer(key: string, behaviour: Behaviour, work = 1_000_000n): TestPeer {
  const held: (() => void)[] = [];
  const p = {
    key,
    calls: 0,
    remote: { height: HEIGHT, work, tipHash: tip.hash },
    getHeaders: async () => {
      p.calls++;
      if (behaviour === 'fail') throw new Error('transport-timeout');
      return blocks.map((b) => encodeHeader(b.header));
    },
    getBlocks: (hashes: readonly Uint8Array[]) => {
      p.calls++;
      if (behaviour === 'fail') return Promise.reject(new Error('transport-timeout'));
      const answer = hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))!);
      if (behaviour === 'serve') return Promise.resolve(answer);
      // silent: answers only when released (a stalled peer whose timeout has not come yet)
      return new Promise<Uint8Array[]>((resolve) => held.push(() => resolve(answer)));
    },
    release: () => {
      for (const r of held.splice(0)) r();
    },
  };
  return p as unknown as TestPeer;
}

function syncWith(c: ReturnType<typeof openChain>, peers: OutboundPeer[], stealAfterMs = 50): Sync {
  return new Sync(
    { chain: c.chain, peers: () => peers, logger: silentLogger(), misbehaved: () => undefined },
    { stealAfterMs },
  );
}

it('a peer that holds its batches loses them to a peer that answers', { timeout: 20_000 }, async () => {
  const c = openChain(`${dir.path}/steal`);
  // the silent peer claims the most work, so it starts first and takes the first batches
  const silent = peer('silent', 'silent', 2_000_000n);
  const full = peer('full', 'serve');
  try {
    const sync = syncWith(c, [silent, full]);
    await sync.run();
    assert.equal(c.chain.tipHeight(), HEIGHT);
    assert.ok(sync.counters.stolen > 0, 'the held batches were asked of the other peer');
  } finally {
    silent.release();
    c.close();
  }
});

it('a late answer after the round ended is harmless', { timeout: 20_000 }, async () => {
  const c = openChain(`${dir.path}/late`);
  const silent = peer('silent', 'silent', 2_000_000n);
  const full = peer('full', 'serve');
  try {
    await syncWith(c, [silent, full]).run();
    silent.release(); // the held replies arrive now: duplicates
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.chain.tipHeight(), HEIGHT);
  } finally {
    c.close();
  }
});

it('passes without progress back off; run() ends the back-off', async () => {
  const c = openChain(`${dir.path}/backoff`);
  const bad = peer('bad', 'fail');
  try {
    // headers known, so more work is known than the tip has
    for (const b of blocks) c.chain.processHeader(b.header);
    const sync = syncWith(c, [bad]);
    await sync.run();
    assert.equal(c.chain.tipHeight(), 0);
    assert.ok(sync.backoffMs > 0, 'backing off after a fruitless pass');
    const calls = bad.calls;
    await sync.tick();
    assert.equal(bad.calls, calls, 'the periodic pass waits out the back-off');
    await sync.run();
    assert.ok(bad.calls > calls, 'an explicit run does not wait');
  } finally {
    c.close();
  }
});

it('a pass never rejects, even when storage fails under it', async () => {
  const c = openChain(`${dir.path}/storage`);
  const full = peer('full', 'serve');
  try {
    const sync = syncWith(c, [full]);
    const failure = new StorageError('storage-io', 'writing failed (ENOSPC)');
    const write = c.db.write.bind(c.db);
    let writes = 0;
    // fault injected: the 20th write and every later one fail, as a full disk does
    c.db.write = ((fn: () => unknown) => {
      if (++writes >= 20) throw failure;
      return write(fn);
    }) as typeof c.db.write;
    await sync.run();
    assert.ok(c.chain.tipHeight() < HEIGHT);
    assert.ok(sync.counters.errors >= 1);
  } finally {
    c.close();
  }
});

it('a request refused at once while another is in flight is no unhandled rejection', async () => {
  const c = openChain(`${dir.path}/busy`);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  let calls = 0;
  // the pipelined second request fails at once (our queue to the peer full), the first answers later
  const busy = {
    key: 'busy',
    remote: { height: HEIGHT, work: 1_000_000n, tipHash: tip.hash },
    getHeaders: async () => blocks.map((b) => encodeHeader(b.header)),
    getBlocks: (hashes: readonly Uint8Array[]) => {
      calls++;
      if (calls % 2 === 0)
        return Promise.reject(Object.assign(new Error('64 requests queued'), { code: 'transport-busy' }));
      const answer = hashes.map((h) => byHash.get(Buffer.from(h).toString('hex'))!);
      return new Promise<Uint8Array[]>((r) => setTimeout(() => r(answer), 30));
    },
  } as unknown as OutboundPeer;
  try {
    const sync = syncWith(c, [busy]);
    for (let i = 0; i < 20 && c.chain.tipHeight() < HEIGHT; i++) await sync.run();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
    assert.equal(c.chain.tipHeight(), HEIGHT, `the refused batches were asked again (calls ${calls})`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    c.close();
  }
});
