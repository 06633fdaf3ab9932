/**
 * The import's progress: sync's line with the verb 'importing' (percent, rate since the start,
 * time left), logged every 5 s or 1,000 blocks, redrawn in place on a terminal only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArchiveProgress } from '../../../services/node/archive/progress.ts';
import type { Logger } from '../../../shared/log.ts';

function recorder() {
  const lines: string[] = [];
  const log = { info: (_o: unknown, msg: string) => lines.push(msg) } as unknown as Logger;
  return { lines, log };
}

describe('import progress', () => {
  it('logs sync’s line with the import’s verb, the average rate and the time left', () => {
    const { lines, log } = recorder();
    const p = new ArchiveProgress('importing', log, undefined);
    p.begin(1000, 3000, 0);
    p.report(1500, 1000); // not yet due: < 5 s and < 1,000 blocks
    assert.deepEqual(lines, []);
    p.report(2000, 2000);
    assert.deepEqual(lines, ['importing: 66.6% (height 2000 of 3000, 500 blocks/s, about 2 s left)']);
    p.report(2100, 4000);
    p.report(2200, 7500);
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /^importing: 73\.3% \(height 2200 of 3000, 160 blocks\/s, about 5 s left\)$/);
  });

  it('redraws one line on a terminal and ends it', () => {
    const { log } = recorder();
    const out: string[] = [];
    const tty = { isTTY: true, write: (s: string) => out.push(s) };
    const p = new ArchiveProgress('importing', log, tty);
    p.begin(0, 100, 0);
    p.report(10, 1000);
    p.report(11, 1100); // within 250 ms: not redrawn
    p.report(50, 2000);
    p.end();
    assert.equal(out.length, 3);
    assert.match(out[0]!, /^\rimporting: 10\.0% \(height 10 of 100/);
    assert.equal(out[2], '\n');
    const quiet: string[] = [];
    new ArchiveProgress('importing', log, { isTTY: false, write: (s: string) => quiet.push(s) }).report(5);
    assert.deepEqual(quiet, []);
  });
});
