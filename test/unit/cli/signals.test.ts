/**
 * Signals while a daemon starts are held and acted on once it can stop cleanly (holdSignals,
 * stopOnSignals), in a real child process signalling itself: the first one stops it cleanly right
 * after its start-up (exit 0), a second one during start-up exits at once (1).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../../fixtures/signal-while-starting.ts', import.meta.url));

function run(signals: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, SIGNALS: signals, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  // the fixture's own lines; its log records (JSON) go to stdout too
  const lines = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  return { code: r.status, signal: r.signal, lines, out: r.stdout, err: r.stderr };
}

describe('signals while a daemon starts', () => {
  it('SIGTERM during start-up: held, then a clean stop once started (exit 0)', () => {
    const r = run('SIGTERM');
    assert.equal(r.signal, null, `killed by ${r.signal}: the signal was not held`);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.lines, ['started', 'stopped']);
    assert.match(r.out + r.err, /SIGTERM while starting: stopping once started/);
  });

  it('SIGINT then SIGTERM during start-up: exits at once (1), without the clean stop', () => {
    const r = run('SIGINT,SIGTERM');
    assert.equal(r.signal, null);
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(r.lines, []);
    assert.match(r.out + r.err, /SIGTERM again while starting/);
  });

  it('a start still not done within the grace after the signal: exits (1), saying so', () => {
    const r = run('SIGTERM', { START_MS: '5000', GRACE_MS: '300' });
    assert.equal(r.signal, null);
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(r.lines, []);
    assert.match(r.out + r.err, /the start did not end within 0.3 s: exiting/);
  });
});
