/** The sync progress line: percentage, rate and time left, never a height above the target. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatDuration, syncLine, syncStatus } from '../../../services/node/p2p/sync-progress.ts';

it('says percentage, rate and time left from two reports', () => {
  const s = syncStatus(699, 1447, { height: 99, at: 0 }, 5_000);
  assert.equal(s.percent, 48.3);
  assert.equal(s.rate, 120);
  assert.equal(s.etaSeconds, 7);
  assert.equal(syncLine(s), 'syncing: 48.3% (height 699 of 1447, 120 blocks/s, about 7 s left)');
});

it('never says a height above the target (blocks arrived faster than headers)', () => {
  const s = syncStatus(624, 620, undefined, 0);
  assert.equal(s.target, 624);
  assert.equal(s.percent, 100);
  assert.equal(syncLine(s), 'syncing: 100.0% (height 624 of 624)');
});

it('the first report has no rate nor estimate; durations read as people write them', () => {
  assert.equal(syncLine(syncStatus(10, 1000, undefined, 0)), 'syncing: 1.0% (height 10 of 1000)');
  assert.equal(formatDuration(59), '59 s');
  assert.equal(formatDuration(61), '1 min 1 s');
  assert.equal(formatDuration(7260), '2 h 1 min');
});
