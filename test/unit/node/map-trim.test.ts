/**
 * MapTrim on a real LMDB map: releasing the map takes its pages out of this process's RSS and the
 * data reads back unchanged; a look releases only past the budget; the idle trim runs once the
 * chain moved far enough and then stood still, not after a short move; a failing madvise turns the
 * trimmer off with a warning. Also the /proc/self/maps parser and the addon's argument checks.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { open, type RootDatabase } from 'lmdb';
import { mappingsOf, ownMappingsOf, rssFileBytes } from '../../../services/node/memory/file-mappings.ts';
import { MapTrim } from '../../../services/node/memory/map-trim.ts';
import { loadNativeMemory, type NativeMemory } from '../../../services/node/memory/native.ts';
import { createLogger, type Logger, silentLogger } from '../../../shared/log.ts';
import { tempDir } from '../../helpers/node.ts';

const MB = 1024 * 1024;
const VALUES = 2048;
const VALUE_BYTES = 16 * 1024; // 32 MB in all, on overflow pages

/** A logger whose lines are kept. */
function capture(level: 'info' | 'warn'): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level }, sink) };
}

function native(): NativeMemory {
  const n = loadNativeMemory();
  assert.ok(typeof n !== 'string', `the addon must be built for these tests (npm run build): ${n}`);
  return n;
}

describe('map trim', () => {
  const dir = tempDir('cairn-map-trim-');
  let env: RootDatabase;
  let digest = '';

  /** Reads every value (so its pages are mapped) and returns a digest of them all. */
  const readAll = (): string => {
    const h = createHash('sha256');
    for (let i = 0; i < VALUES; i++) h.update(env.getBinary(key(i)) as Buffer);
    return h.digest('hex');
  };
  const key = (i: number) => Buffer.from(i.toString(16).padStart(8, '0'));

  before(async () => {
    env = open({ path: dir.path, encoding: 'binary', keyEncoding: 'binary', compression: false });
    await env.transaction(() => {
      for (let i = 0; i < VALUES; i++) env.put(key(i), Buffer.alloc(VALUE_BYTES, i & 0xff));
    });
    digest = readAll();
  });
  after(async () => {
    await env.close();
    dir.remove();
  });

  it('finds the map in /proc/self/maps and releases its pages without losing a byte', () => {
    const trim = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 0 },
      { native: native(), logger: silentLogger(), activity: () => 0 },
    );
    assert.ok(ownMappingsOf(`${dir.path}/data.mdb`).length > 0, 'data.mdb is mapped');
    assert.equal(readAll(), digest);
    const before = rssFileBytes()!;
    const fell = trim.releaseMap();
    const after = rssFileBytes()!;
    assert.ok(fell >= 24 * MB, `RssFile fell by ${(fell / MB).toFixed(1)} MB, at least 24 of the 32 read`);
    assert.equal(before - after, fell);
    assert.equal(trim.releases, 1);
    assert.equal(trim.releasedBytes, fell);
    // the pages come back from the page cache, unchanged
    assert.equal(readAll(), digest);
    assert.ok(rssFileBytes()! - after >= 24 * MB, 'reading maps them again');
  });

  it('releases on a look only when the file pages grew past the budget', () => {
    const generous = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 1024 * MB },
      { native: native(), logger: silentLogger(), activity: () => 0 },
    );
    const strict = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 8 * MB },
      { native: native(), logger: silentLogger(), activity: () => 0 },
    );
    strict.releaseMap();
    generous.check(); // the baseline: what is mapped now
    strict.check();
    assert.equal(readAll(), digest); // 32 MB mapped again
    generous.check();
    assert.equal(generous.releases, 0, 'within 1 GB of budget');
    strict.check();
    assert.equal(strict.releases, 2, 'past 8 MB: released');
    assert.ok(strict.releasedBytes >= 24 * MB);
  });

  it('looks after each block connected while started, not after stop', () => {
    const blocks = new EventEmitter();
    const trim = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 8 * MB, checkMs: 3_600_000 },
      { native: native(), logger: silentLogger(), activity: () => 0, blocks },
    );
    trim.start();
    trim.releaseMap();
    assert.equal(readAll(), digest);
    blocks.emit('block:connected');
    assert.equal(trim.releases, 2, 'the block prompted a look past the budget');
    trim.stop();
    assert.equal(blocks.listenerCount('block:connected'), 0);
    assert.equal(readAll(), digest);
    blocks.emit('block:connected');
    assert.equal(trim.releases, 2, 'stopped: no more looks');
  });

  it('releases under an open write transaction, which commits every byte', () => {
    const trim = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 0 },
      { native: native(), logger: silentLogger(), activity: () => 0 },
    );
    const extra = (i: number) => Buffer.from(`extra-${i}`);
    env.transactionSync(() => {
      for (let i = 0; i < 500; i++) env.put(extra(i), Buffer.alloc(3000, i & 0xff));
      assert.ok(trim.releaseMap() > 0, 'pages released mid-transaction');
      assert.equal(readAll(), digest, 'committed data reads back inside the transaction');
      for (let i = 0; i < 500; i++) assert.equal((env.getBinary(extra(i)) as Buffer)[2999], i & 0xff);
      trim.releaseMap();
      for (let i = 500; i < 1000; i++) env.put(extra(i), Buffer.alloc(3000, i & 0xff));
    });
    trim.releaseMap();
    assert.equal(readAll(), digest);
    for (let i = 0; i < 1000; i++) {
      const v = env.getBinary(extra(i)) as Buffer;
      assert.ok(v.length === 3000 && v.every((b) => b === (i & 0xff)), `extra ${i}`);
    }
  });

  it('trims once the chain moved far and then stood still, not after a short move', () => {
    let height = 0;
    let now = 0;
    let collections = 0;
    const storage: number[] = [];
    const { lines, logger } = capture('info');
    const trim = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 1024 * MB, idleMs: 2000, idleBlocks: 100 },
      {
        native: native(),
        logger,
        activity: () => height,
        gc: () => collections++,
        releaseStorage: () => {
          storage.push(collections);
          return true;
        },
        clock: () => now,
      },
    );
    height = 50;
    trim.check();
    now += 5000;
    trim.check();
    assert.equal(trim.idleTrims, 0, '50 blocks: no trim');
    height = 150;
    now += 100;
    trim.check();
    now += 1000;
    trim.check();
    assert.equal(trim.idleTrims, 0, 'not idle for 2 s yet');
    assert.equal(readAll(), digest);
    now += 1500;
    trim.check();
    assert.equal(trim.idleTrims, 1);
    assert.equal(collections, 1);
    assert.deepEqual(storage, [1], 'storage released once, after the collection');
    assert.equal(trim.releases, 1, 'the map is released with the trim');
    assert.match(lines.join(''), /chain idle: memory trimmed, RSS \d+ → \d+ MB/);
    now += 60_000;
    trim.check();
    assert.equal(trim.idleTrims, 1, 'once per move');
  });

  it('stops with a warning when madvise fails', () => {
    const { lines, logger } = capture('warn');
    let calls = 0;
    const failing: NativeMemory = {
      releaseRange: () => {
        calls++;
        return 22;
      },
      trimHeap: () => false,
      mallocInfo: () => null,
    };
    const trim = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 0 },
      { native: failing, logger, activity: () => 0 },
    );
    assert.equal(trim.releaseMap(), 0);
    assert.equal(calls, 1);
    assert.equal(trim.releases, 0);
    trim.check();
    assert.equal(readAll(), digest);
    trim.check();
    assert.equal(calls, 1, 'after a failure the looks do nothing');
    assert.match(lines.join(''), /releasing LMDB's map pages failed \(errno 22\)/);
  });
});

describe('map trim without the map', () => {
  it('says so and stops when data.mdb is not mapped', () => {
    const dir = tempDir('cairn-map-trim-none-');
    const { lines, logger } = capture('warn');
    const trim = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 0 },
      { native: native(), logger, activity: () => 0 },
    );
    assert.equal(trim.releaseMap(), 0);
    assert.equal(trim.releases, 0);
    assert.match(
      lines.join(''),
      /data\.mdb is not in \/proc\/self\/maps: storage\.map_cache_mb is not enforced/,
    );
    assert.equal(trim.enforcing, false);
    dir.remove();
  });

  it('without the addon, enforces no budget but still trims after a sync: collection and storage release', () => {
    const dir = tempDir('cairn-map-trim-noaddon-');
    let height = 0;
    let now = 0;
    const done: string[] = [];
    const { lines, logger } = capture('info');
    const trim = new MapTrim(
      { dbPath: dir.path, mapCacheBytes: 0, idleMs: 2000, idleBlocks: 100 },
      {
        native: undefined,
        logger,
        activity: () => height,
        gc: () => done.push('gc'),
        releaseStorage: () => {
          done.push('storage');
          return true;
        },
        clock: () => now,
      },
    );
    assert.equal(trim.enforcing, false);
    height = 150;
    trim.check();
    now += 2500;
    trim.check();
    assert.deepEqual(done, ['gc', 'storage']);
    assert.equal(trim.idleTrims, 1);
    assert.equal(trim.storageReleases, 1);
    assert.equal(trim.releases, 0, 'no map release without the addon');
    assert.match(lines.join(''), /chain idle: memory trimmed/);
    dir.remove();
  });
});

describe('native memory addon', () => {
  it('checks its arguments and trims the heap', () => {
    const n = native();
    assert.throws(() => n.releaseRange('1' as unknown as bigint, 0n), TypeError);
    assert.throws(() => n.releaseRange(-1n, 4096n), TypeError);
    assert.equal(n.releaseRange(1n, 4096n), 22, 'an unaligned start is EINVAL, returned not thrown');
    assert.equal(n.releaseRange(0n, 0n), 0);
    assert.equal(typeof n.trimHeap(), 'boolean');
    assert.match(n.mallocInfo() ?? '', /^<malloc version="\d+">[\s\S]*<\/malloc>/, 'glibc here');
  });
});

describe('mappingsOf', () => {
  it('finds every piece of a path, spaces included, and nothing else', () => {
    const maps = [
      '00400000-00b6f000 r--p 00000000 fe:00 260689                             /usr/bin/node',
      '7f7374000000-7f8374000000 r--s 00000000 fe:00 4243634                    /data/my chain/data.mdb',
      '7f9000000000-7f9000001000 r--s 00000000 fe:00 4243634                    /data/my chain/data.mdb',
      '7fa000000000-7fa000001000 r--s 00000000 fe:00 4243635                    /data/my chain/data.mdb (deleted)',
      '7fb000000000-7fb000002000 rw-p 00000000 00:00 0 ',
      'garbage',
    ].join('\n');
    assert.deepEqual(mappingsOf(maps, '/data/my chain/data.mdb'), [
      { start: 0x7f7374000000n, length: 0x1000000000n },
      { start: 0x7f9000000000n, length: 0x1000n },
    ]);
    assert.deepEqual(mappingsOf(maps, '/data/other'), []);
  });
});
