/**
 * Export and import on real LMDB: the imported chain equals the source (same ledger digest),
 * blocks pass the sync path (signatures pre-verified on the workers), an interrupted import
 * resumes, a damaged file applies nothing, an invalid block stops the import at its offset with
 * the blocks before it kept, and ranges join up.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError, ArchiveUsageError } from '../../../services/node/archive/errors.ts';
import { exportBlocks } from '../../../services/node/archive/export.ts';
import { encodeArchive, FILE_HEADER_SIZE, recordSize } from '../../../services/node/archive/format.ts';
import { importBlocks } from '../../../services/node/archive/import.ts';
import { ChainState } from '../../../services/node/chain-state.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { silentLogger } from '../../../shared/log.ts';
import { makeChain, writeChain } from '../../helpers/archive.ts';
import { digestHex, tempDir } from '../../helpers/node.ts';

const logger = silentLogger();
const root = tempDir('cairn-import-');
after(() => root.remove());
let n = 0;
const fresh = () => join(root.path, `node${n++}`);
const open = (dataDir: string, verifyWorkers = 0) =>
  ChainState.open({ dataDir, params: LOCAL, verifyWorkers }, { logger });

async function withState<T>(dataDir: string, f: (s: ChainState) => Promise<T>, workers = 0): Promise<T> {
  const s = await open(dataDir, workers);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

async function rejects(p: Promise<unknown>, code: string): Promise<ArchiveError> {
  const e = await p.then(
    () => assert.fail(`no ${code}`),
    (x: unknown) => x,
  );
  assert.ok(e instanceof ArchiveError, String(e));
  assert.equal(e.code, code, e.message);
  return e;
}

const HEIGHT = 60;
const chain = makeChain(HEIGHT);
const source = fresh();
let sourceDigest = '';
let full = '';

before(async () => {
  await writeChain(source, chain.blocks);
  full = join(root.path, 'full.cba');
  sourceDigest = await withState(source, async (s) => {
    const r = await exportBlocks(s.chain, full);
    assert.deepEqual([r.from, r.to, r.count, r.interrupted], [1, HEIGHT, HEIGHT, false]);
    return digestHex(s.chain);
  });
});

describe('export-blocks / import-blocks', () => {
  it('imports a whole chain into an empty node: same tip, same ledger, signatures checked on the workers', async () => {
    const dir = fresh();
    await withState(
      dir,
      async (s) => {
        const r = await importBlocks(s.chain, full, { logger, batchBlocks: 8 });
        assert.deepEqual([r.processed, r.skipped, r.tipHeight, r.interrupted], [HEIGHT, 0, HEIGHT, false]);
        assert.equal(r.txs, chain.txs);
        assert.equal(digestHex(s.chain), sourceDigest);
        assert.deepEqual(s.chain.checkInvariants(true), []);
        assert.equal(s.chain.preparedBlocks, HEIGHT, 'every block went through Chain.prepare');
      },
      1,
    );
  });

  it('resumes an interrupted import where it stopped, skipping what is in the chain', async () => {
    const dir = fresh();
    const stopped = await withState(dir, async (s) => {
      const abort = new AbortController();
      const r = await importBlocks(s.chain, full, {
        logger,
        batchBlocks: 5,
        signal: abort.signal,
        onBatch: (tip) => {
          if (tip >= 20) abort.abort();
        },
      });
      assert.equal(r.interrupted, true);
      assert.ok(r.tipHeight >= 20 && r.tipHeight < HEIGHT, `stopped at ${r.tipHeight}`);
      return r.tipHeight;
    });
    await withState(dir, async (s) => {
      assert.equal(s.chain.tipHeight(), stopped);
      const r = await importBlocks(s.chain, full, { logger, batchBlocks: 5 });
      assert.equal(r.skipped, stopped);
      assert.equal(r.processed, HEIGHT - stopped);
      assert.equal(digestHex(s.chain), sourceDigest);
      // and a third run has nothing to do
      const again = await importBlocks(s.chain, full, { logger });
      assert.deepEqual([again.skipped, again.processed], [HEIGHT, 0]);
    });
  });

  it('joins ranges: a later range needs the blocks before it', async () => {
    const first = join(root.path, 'first.cba');
    const second = join(root.path, 'second.cba');
    await withState(source, async (s) => {
      await exportBlocks(s.chain, first, { to: 30 });
      await exportBlocks(s.chain, second, { from: 31, to: HEIGHT });
    });
    const dir = fresh();
    await withState(dir, async (s) => {
      const e = await rejects(importBlocks(s.chain, second, { logger }), 'archive-no-parent');
      assert.equal(e.offset, FILE_HEADER_SIZE);
      assert.match(
        e.message,
        /height 31 builds on a block this node does not have \(its chain ends at height 0\)/,
      );
      assert.equal(s.chain.tipHeight(), 0);
      await importBlocks(s.chain, first, { logger });
      await importBlocks(s.chain, second, { logger });
      assert.equal(digestHex(s.chain), sourceDigest);
    });
  });

  it('a damaged file applies nothing, and the error names the offset', async () => {
    const bytes = readFileSync(full);
    const at = FILE_HEADER_SIZE + chain.blocks.slice(0, 39).reduce((t, b) => t + recordSize(b.raw.length), 0);
    bytes[at + 200]! ^= 0x04;
    const damaged = join(root.path, 'damaged.cba');
    writeFileSync(damaged, bytes);
    const cut = join(root.path, 'cut.cba');
    writeFileSync(cut, readFileSync(full).subarray(0, at + 10));
    const dir = fresh();
    await withState(dir, async (s) => {
      const e = await rejects(importBlocks(s.chain, damaged, { logger }), 'archive-bad-checksum');
      assert.equal(e.offset, at);
      assert.match(e.message, /block at height 40/);
      await rejects(importBlocks(s.chain, cut, { logger }), 'archive-truncated');
      assert.equal(s.chain.tipHeight(), 0, 'nothing applied');
    });
  });

  it('an invalid block stops the import at its offset; the blocks before it stay', async () => {
    const bad = makeChain(30, { badAt: 18 });
    const file = join(root.path, 'invalid.cba');
    writeFileSync(file, encodeArchive(LOCAL.genesisHash, 1, bad.blocks));
    const at = FILE_HEADER_SIZE + bad.blocks.slice(0, 17).reduce((t, b) => t + recordSize(b.raw.length), 0);
    const dir = fresh();
    for (const workers of [0, 1]) {
      await withState(
        dir,
        async (s) => {
          const e = await rejects(
            importBlocks(s.chain, file, { logger, batchBlocks: 4 }),
            'archive-invalid-block',
          );
          assert.equal(e.offset, at);
          assert.match(e.message, /height 18 .* is invalid: bad-txns-sig/);
          assert.equal((e.cause as { code?: string }).code, 'bad-txns-sig');
          assert.equal(s.chain.tipHeight(), 17);
          assert.deepEqual(s.chain.checkInvariants(true), []);
        },
        workers,
      );
    }
  });

  it('export of the genesis block alone on a new node is the documented vector', async () => {
    const vector = join(root.path, 'vector.cba');
    await withState(fresh(), async (s) => {
      await exportBlocks(s.chain, vector, { from: 0, to: 0 });
    });
    assert.equal(
      readFileSync(vector).toString('hex'),
      encodeArchive(LOCAL.genesisHash, 0, [{ raw: LOCAL.genesisBlock, hash: LOCAL.genesisHash }]).toString(
        'hex',
      ),
    );
  });

  it('export: ranges are checked, FILE is not replaced without force, an interrupted export leaves no file', async () => {
    await withState(source, async (s) => {
      const usage = async (p: Promise<unknown>, re: RegExp) => {
        const e = await rejects(p, (await p.catch((x: ArchiveError) => x.code)) as string);
        assert.ok(e instanceof ArchiveUsageError);
        assert.match(e.message, re);
      };
      await usage(exportBlocks(s.chain, join(root.path, 'x.cba'), { to: HEIGHT + 1 }), /above the tip/);
      await usage(exportBlocks(s.chain, join(root.path, 'x.cba'), { from: 10, to: 9 }), /above --to/);
      await usage(exportBlocks(s.chain, full), /use --force/);
      const r = await exportBlocks(s.chain, full, { force: true, from: 5, to: 6 });
      assert.equal(r.count, 2);
      await exportBlocks(s.chain, full, { force: true });
      const abort = new AbortController();
      const partial = join(root.path, 'partial.cba');
      const i = await exportBlocks(s.chain, partial, {
        signal: abort.signal,
        onBlock: (h) => h === 10 && abort.abort(),
      });
      assert.equal(i.interrupted, true);
      assert.equal(existsSync(partial), false);
      assert.deepEqual(
        readdirSync(root.path).filter((f) => f.endsWith('.tmp')),
        [],
      );
    });
  });
});
