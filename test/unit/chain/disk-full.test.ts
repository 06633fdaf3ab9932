/**
 * A full disk: the chain database lives on a tiny tmpfs until writes fail. The failure must be a
 * StorageError that says what to do, and the database must reopen (after space is freed) at the
 * state of its last committed block. Needs root to mount a tmpfs; skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { StorageError } from '../../../services/node/db/errors.ts';
import type { DecodedBlock } from '../../../shared/core/block/types.ts';
import { makeKey } from '../../helpers/chain.ts';
import { blockOn, digestHex, openChain, tempDir } from '../../helpers/node.ts';

function canMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const probe = tempDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe.path], { stdio: 'pipe' });
    execFileSync('umount', [probe.path]);
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs here: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    probe.remove();
  }
}

const skip = canMount();

describe('disk full', () => {
  it('surfaces as a StorageError and leaves the state of the last committed block', { skip }, () => {
    const dir = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', dir.path]);
    const opened: { close: () => void }[] = [];
    try {
      const c = openChain(dir.path);
      opened.push(c);
      const miner = makeKey();
      const blocks: DecodedBlock[] = [];
      let error: unknown;
      for (let i = 0; i < 5000 && error === undefined; i++) {
        const b = blockOn(c.chain.tip, [], miner.owner, 0, 'f');
        try {
          c.chain.processBlock(b.raw);
          blocks.push(b);
        } catch (e) {
          error = e;
          blocks.push(b); // stored before the failure, perhaps: a restart may connect it
        }
      }
      assert.ok(error instanceof StorageError, `expected StorageError, got ${String(error)}`);
      assert.equal(error.code, 'storage-io');
      assert.match(error.message, /disk may be full/);
      const height = c.chain.tipHeight();
      assert.equal(height, blocks.length - 1, 'memory agrees with the last committed block');
      c.close();

      execFileSync('mount', ['-o', 'remount,size=16m', dir.path]);
      const again = openChain(dir.path);
      opened.push(again);
      // the block that failed to connect may have been stored before the failure: then the
      // restart connects it; either way the state is that of a block boundary
      const reopened = again.chain.tipHeight();
      assert.ok(
        reopened === height || reopened === height + 1,
        `reopened at ${reopened}, failed at ${height}`,
      );
      const digest = digestHex(again.chain);
      again.close();
      const replayDir = tempDir();
      const replay = openChain(replayDir.path);
      for (const b of blocks.slice(0, reopened)) replay.chain.processBlock(b.raw);
      assert.equal(digestHex(replay.chain), digest);
      replay.close();
      replayDir.remove();
    } finally {
      for (const o of opened) o.close();
      execFileSync('umount', ['-l', dir.path]);
      dir.remove();
    }
  });
});
