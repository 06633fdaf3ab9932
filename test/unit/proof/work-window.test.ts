import assert from 'node:assert/strict';
import { it } from 'node:test';
import { WorkWindow } from '../../../services/node/proof/work-window.ts';

it('rates the work of the window, over the recorder’s age while it is younger', () => {
  const w = new WorkWindow(300);
  w.add(1000n, 100);
  w.add(500n, 100);
  w.add(1500n, 110);
  assert.equal(w.rate(110, 10), 3000 / 10);
  assert.equal(w.rate(110, 0), 3000); // at least one second
  assert.equal(w.rate(200, 5000), 3000 / 300);
});

it('forgets work older than the window, so a recorder that stopped decays to zero', () => {
  const w = new WorkWindow(60);
  w.add(6000n, 1000);
  assert.equal(w.rate(1030, 1000), 100);
  w.add(600n, 1050);
  assert.equal(w.rate(1060, 1000), 600 / 60);
  assert.equal(w.rate(1200, 1000), 0);
});

it('keeps at most one bucket per second of the window, whatever the clock does', () => {
  const w = new WorkWindow(10);
  for (let i = 0; i < 1000; i++) w.add(1n, 500 - (i % 7)); // a clock going back and forth
  assert.ok(w.rate(500, 1000) <= 1000 / 10);
  for (let i = 0; i < 100_000; i++) w.add(1n, 600);
  assert.equal(w.rate(600, 1000), 100_000 / 10);
});
