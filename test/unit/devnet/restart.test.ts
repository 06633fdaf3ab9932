/**
 * The devnet's restart policy (scripts/devnet/restart.ts): 1 s doubling to 30 s, a stable run
 * starts a new row, giving up after 5 quick failures in a row; exit codes that need a fix (2
 * config, 3 storage) are not retried at once and are named; and the report a process's end gets
 * (scripts/devnet/supervisor.ts): one line with how it ended and what happens next, then the last
 * lines of its log since its last start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  describeEnding,
  needsFix,
  RESTART_DEFAULTS,
  RestartPolicy,
} from '../../../scripts/devnet/restart.ts';
import { exitReport, lastRun, readable } from '../../../scripts/devnet/supervisor.ts';

const QUICK = 2_000; // ms of uptime: a quick failure
const STABLE = 120_000; // a run long enough to start a new row

describe('devnet restart policy', () => {
  it('waits 1 s, then doubles for each failure in a row up to 30 s', () => {
    const p = new RestartPolicy({ maxQuickFailures: 100 });
    const delays = Array.from({ length: 8 }, () => {
      const d = p.onExit(1, QUICK);
      assert.ok(d.restart);
      return d.delayMs;
    });
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('gives up after 5 quick failures in a row, and says why', () => {
    const p = new RestartPolicy();
    for (let i = 1; i < RESTART_DEFAULTS.maxQuickFailures; i++) {
      const d = p.onExit('SIGKILL', QUICK);
      assert.equal(d.restart, true, `failure ${i}`);
      assert.equal(d.failuresInRow, i);
    }
    const last = p.onExit('SIGKILL', QUICK);
    assert.equal(last.restart, false);
    assert.match(last.why, /5 failures in a row, each within 30 s of its start/);
  });

  it('a run that lasted starts a new row: back to 1 s and to 5 more tries', () => {
    const p = new RestartPolicy();
    for (let i = 0; i < 4; i++) p.onExit(1, QUICK);
    const d = p.onExit(1, STABLE);
    assert.ok(d.restart);
    assert.equal(d.delayMs, 1_000);
    assert.equal(d.why, 'first failure');
    for (let i = 0; i < 4; i++) assert.equal(p.onExit(1, QUICK).restart, true, `quick failure ${i + 1}`);
    assert.equal(p.onExit(1, QUICK).restart, false);
  });

  it('a clean exit (0) that the devnet did not ask for is restarted like any end', () => {
    const d = new RestartPolicy().onExit(0, STABLE);
    assert.ok(d.restart);
    assert.equal(d.delayMs, 1_000);
    assert.equal(describeEnding(0), 'exit code 0 (stopped cleanly, but not by the devnet)');
  });

  it('exit codes 2 (config) and 3 (storage, disk full) wait at least 5 s and say why; then back off as usual', () => {
    for (const code of [2, 3]) {
      const p = new RestartPolicy();
      const first = p.onExit(code, QUICK);
      assert.ok(first.restart);
      assert.equal(first.delayMs, 5_000);
      assert.match(first.why, /needs a fix that a restart alone does not bring/);
      assert.deepEqual(
        [2, 3, 4].map(() => p.onExit(code, QUICK)).map((d) => (d.restart ? d.delayMs : -1)),
        [5_000, 5_000, 8_000],
      );
    }
    assert.equal(describeEnding(3), 'exit code 3 (storage failure, e.g. disk full)');
    assert.equal(describeEnding(2), 'exit code 2 (configuration error)');
    assert.ok(needsFix(2) && needsFix(3) && needsFix(4));
    assert.ok(!needsFix(0) && !needsFix(1) && !needsFix('SIGKILL'));
  });

  it('names signals and unknown codes', () => {
    assert.equal(describeEnding('SIGKILL'), 'killed by SIGKILL');
    assert.equal(describeEnding(137), 'exit code 137');
    assert.equal(describeEnding('spawn-failed'), 'could not be started');
  });

  it('the delays are scaled by the first one (the devnet tests use a short one)', () => {
    const p = new RestartPolicy({ initialMs: 200 });
    assert.deepEqual(
      [0, 1, 2].map(() => p.onExit(1, QUICK)).map((d) => (d.restart ? d.delayMs : -1)),
      [200, 400, 800],
    );
  });
});

describe('devnet exit report', () => {
  it('is one line with the name, how it ended, for how long it ran and what happens next, then the log', () => {
    const d = new RestartPolicy().onExit(3, 2_345);
    const text = exitReport('node-3', 3, 2_345, d, '.devnet/logs/node-3.log', 'line a\nline b');
    const [blank, first, ...rest] = text.split('\n');
    assert.equal(blank, '');
    assert.equal(
      first,
      '! node-3 ended: exit code 3 (storage failure, e.g. disk full) after 2.3 s; restarting it in 5 s ' +
        '(first failure; this exit code needs a fix that a restart alone does not bring, so not at once); ' +
        'the rest keep running. Last lines of .devnet/logs/node-3.log:',
    );
    assert.deepEqual(rest, ['    line a', '    line b']);
  });

  it('says when it gives up', () => {
    const p = new RestartPolicy();
    let d = p.onExit(1, 100);
    for (let i = 0; i < 4; i++) d = p.onExit(1, 100);
    const text = exitReport('recorder-1', 1, 100, d, 'r.log', '');
    assert.match(
      text,
      /! recorder-1 ended: exit code 1 \(failure\) after 0\.1 s; not restarting it any more \(5 failures in a row/,
    );
    assert.match(text, /the rest keep running — fix the cause/);
    assert.match(text, /\(its log is empty\)/);
  });

  it('shows the last lines since the devnet last started the process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-log-'));
    try {
      const log = join(dir, 'node-1.log');
      const old = Array.from({ length: 30 }, (_, i) => `old ${i}`).join('\n');
      writeFileSync(
        log,
        `--- devnet: starting node-1 at x ---\n${old}\n--- devnet: restarting (start 2) node-1 at y ---\nnew 1\nnew 2\n`,
      );
      assert.equal(lastRun(log), 'new 1\nnew 2');
      writeFileSync(log, `${old}\n`);
      assert.equal(lastRun(log, 3), 'old 27\nold 28\nold 29');
      writeFileSync(log, '--- devnet: starting node-1 at x ---\n');
      assert.equal(lastRun(log), '');
      assert.equal(lastRun(join(dir, 'missing.log')), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows pino JSON lines as time, level and message (and the error), other lines as they are', () => {
    const t = Date.UTC(2026, 0, 2, 12, 3, 4);
    assert.equal(
      readable(
        JSON.stringify({
          level: 60,
          time: t,
          name: 'cairnd',
          err: { message: 'ENOSPC' },
          msg: 'storage failure',
        }),
      ),
      '12:03:04 FATAL storage failure (ENOSPC)',
    );
    assert.equal(
      readable(JSON.stringify({ level: 30, time: t, msg: 'new tip at height 7' })),
      '12:03:04 INFO new tip at height 7',
    );
    assert.equal(readable('plain text'), 'plain text');
    assert.equal(readable('{not json'), '{not json');
    assert.equal(readable('{"no":"msg"}'), '{"no":"msg"}');
  });
});
