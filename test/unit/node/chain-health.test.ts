/**
 * The watchdog and the honest status (issue 11): a tip that does not move while more work is
 * known becomes a stall after `stallSeconds` (warning logged once per period, RPC warnings,
 * `initialblockdownload` while far behind), which ends when blocks connect; a storage failure is
 * a warning at once. Real chain on LMDB; the watchdog's clock is injected.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { StorageError } from '../../../services/node/db/errors.ts';
import { ChainHealth } from '../../../services/node/health/chain-health.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { createLogger } from '../../../shared/log.ts';
import { MemoryLedger, makeKey } from '../../helpers/chain.ts';
import { openChain, tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-health-');
after(() => dir.remove());

const miner = makeKey();
const ledger = new MemoryLedger();
for (let i = 0; i < 40; i++) ledger.apply(ledger.nextBlock([], miner.owner));
const blocks: DecodedBlock[] = ledger.blocks.slice(1);

/** A logger whose lines the test reads (pino writing JSON lines to a function). */
function recordingLogger(): {
  logger: ReturnType<typeof createLogger>;
  lines: { level: number; msg: string }[];
} {
  const lines: { level: number; msg: string }[] = [];
  const logger = createLogger(
    { level: 'info', name: 'test' },
    { write: (s: string) => void lines.push(JSON.parse(s)) },
  );
  return { logger, lines };
}

it('a tip that does not move while more work is known is a stall, reported until it ends', () => {
  const c = openChain(`${dir.path}/stall`);
  try {
    let now = 1_000_000;
    let failure: StorageError | undefined;
    const { logger, lines } = recordingLogger();
    const h = new ChainHealth(
      { stallSeconds: 30 },
      { chain: c.chain, logger, storageFailure: () => failure, peers: () => 2, now: () => now },
    );
    h.check();
    assert.deepEqual(h.warnings(), [], 'in step with the network: no warning');
    assert.equal(h.initialBlockDownload(), false);

    for (const b of blocks) c.chain.processHeader(b.header);
    for (const b of blocks.slice(0, 5)) c.chain.processBlock(b);
    h.check();
    assert.equal(h.initialBlockDownload(), true, '35 blocks behind the best header');
    now += 29_000;
    h.check();
    assert.equal(h.stalled, false, 'not before stallSeconds');
    now += 2_000;
    h.check();
    assert.equal(h.stalled, true);
    assert.equal(h.stalledSeconds(), 31);
    const w = h.warnings();
    assert.equal(w.length, 1);
    assert.match(
      w[0]!,
      /sync stalled: no new block for 31 s at height 5 while peers have shown headers to 40/,
    );
    assert.equal(lines.filter((l) => l.level === 40 && /sync stalled/.test(l.msg)).length, 1);
    now += 10_000;
    h.check();
    assert.equal(lines.filter((l) => l.level === 40).length, 1, 'one warning per period, not per check');
    now += 30_000;
    h.check();
    assert.equal(lines.filter((l) => l.level === 40).length, 2, 'and again while it lasts');

    for (const b of blocks.slice(5)) c.chain.processBlock(b);
    now += 1_000;
    h.check();
    assert.equal(h.stalled, false);
    assert.deepEqual(h.warnings(), []);
    assert.equal(h.initialBlockDownload(), false);
    assert.ok(lines.some((l) => /sync resumed at height 40/.test(l.msg)));

    failure = new StorageError('storage-io', 'writing to /x failed (ENOSPC)');
    assert.match(h.warnings()[0]!, /storage failed, node stopping: writing to \/x failed/);
    failure = undefined;
    const degraded = new ChainHealth(
      { stallSeconds: 30 },
      {
        chain: c.chain,
        logger,
        storageFailure: () => undefined,
        peers: () => 2,
        now: () => now,
        verifyPoolLoss: () => ({ worker: 0, cause: 'exit', detail: 'exit code 1' }),
      },
    );
    assert.deepEqual(degraded.warnings(), [
      'verify workers lost (exit: exit code 1): signatures are verified on the main thread, slower; restart the process to get them back',
    ]);
  } finally {
    c.close();
  }
});
