/**
 * The simulation's arithmetic: which nodes a block must reach (not those down or just restarted),
 * the 50 / 90 / 100 % times, quantiles, and the machine-bound verdict.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Timeline } from '../../../scripts/sim/collect.ts';
import { plotSvg } from '../../../scripts/sim/plot.ts';
import {
  buildReport,
  quantile,
  type RunRecord,
  reachTimes,
  reportText,
  SETTLE_MS,
} from '../../../scripts/sim/report.ts';

const T0 = 1_000_000;

function timeline(): Timeline {
  const t = new Timeline();
  for (const n of ['a', 'b', 'c', 'd']) t.up(n, T0 - 2 * SETTLE_MS);
  return t;
}

describe('sim report', () => {
  it('quantile: nearest rank', () => {
    assert.equal(quantile([], 0.5), null);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.99), 4);
    assert.equal(quantile([7], 0.01), 7);
  });

  it('reach times count every node up through the block, in arrival order', () => {
    const r = reachTimes(
      new Map([
        ['a', T0],
        ['b', T0 + 100],
        ['c', T0 + 250],
        ['d', T0 + 900],
      ]),
      T0,
      timeline(),
    );
    assert.deepEqual(r, { to50: 100, to90: 900, to100: 900, eligible: 4 });
  });

  it('a node that never saw it leaves 100% unreached; a node that was down does not count', () => {
    const t = timeline();
    assert.equal(
      reachTimes(
        new Map([
          ['a', T0],
          ['b', T0 + 100],
          ['c', T0 + 250],
        ]),
        T0,
        t,
      ).to100,
      null,
    );
    t.down('d', T0 + 50); // stopped before it had the block
    assert.deepEqual(
      reachTimes(
        new Map([
          ['a', T0],
          ['b', T0 + 100],
          ['c', T0 + 250],
        ]),
        T0,
        t,
      ),
      {
        to50: 100,
        to90: 250,
        to100: 250,
        eligible: 3,
      },
    );
    t.up('d', T0 - 1000); // (re)started just before: catching up, not relaying yet
    assert.equal(reachTimes(new Map([['a', T0]]), T0 + 5000, t).eligible, 3);
  });

  it('the report flags a machine-bound run and says whose the CPU was', () => {
    const rec: RunRecord = {
      command: 'x',
      options: {},
      shaper: 'emulator',
      startMs: T0,
      endMs: T0 + 60_000,
      nodes: ['a', 'b', 'c', 'd'],
      timeline: timeline(),
      blocks: new Map([
        [
          'h1',
          new Map([
            ['a', T0 + 1000],
            ['b', T0 + 1100],
            ['c', T0 + 1200],
            ['d', T0 + 1300],
          ]),
        ],
      ]),
      txs: new Map(),
      submitted: new Map(),
      bestChain: [{ hash: 'h1', height: 1, size: 1000, nTx: 2 }],
      peerSamples: [{ t: T0 + 1, node: 'a', peers: 3, inbound: 1, height: 1, tip: 'h1' }],
      payloadBytes: new Map([['a', { sent: 500, recv: 500, byKind: { block: 600, tx: 300, other: 100 } }]]),
      linkStart: { hosts: new Map([['a', { rx: 0, tx: 0, p2pSent: 0, p2pReceived: 0 }]]) },
      linkEnd: { hosts: new Map([['a', { rx: 9, tx: 9, p2pSent: 3000, p2pReceived: 1000 }]]) },
      cpu: [1, 2, 3].map((i) => ({ t: T0 + i * 1000, busy: 0.99, load1: 4, byRole: { node: 0.5 } })),
      cores: 2,
      loopDelay: { p50: 1, p99: 2, max: 3 },
      sync: undefined,
      tips: { oneTip: true, convergeSeconds: 1, byTip: {} },
      churn: { stops: 0, nodes: [] },
      load: { targetRate: 0, txBytes: 0, rejected: {}, sendErrors: 0, skipped: 0 },
      unexpectedExits: [],
    };
    const r = buildReport(rec);
    assert.equal(r.blocks.bestChain, 1);
    assert.equal(r.blocks.stale, 0);
    assert.equal(r.blockPropagation.to90.medianMs, 300);
    assert.deepEqual(r.bytesPerNodePerBlock.wire, { mean: 4000, max: 4000 });
    assert.deepEqual(r.bytesPerNodePerBlock.blockRelay, { mean: 600, max: 600 });
    assert.deepEqual(r.bytesPerNodePerBlock.txRelay, { mean: 300, max: 300 });
    assert.match(
      reportText(r),
      /of which blocks mean 0\.6 kB, max 0\.6 kB \(0\.60× the block\); transactions mean 0\.3 kB/,
    );
    assert.equal(r.machine.machineBound, true);
    assert.match(
      r.machine.verdict,
      /^MACHINE-BOUND: .*simulation's processes used 0\.50 of 2 cores, other processes on the machine 1\.48/,
    );
    const svg = plotSvg({
      title: 't',
      startMs: T0,
      endMs: T0 + 60_000,
      blocks: [],
      txs: [],
      cpu: rec.cpu,
      churn: [],
    });
    assert.match(svg, /^<svg[\s\S]*<\/svg>\n$/);
  });
});
