/**
 * The devnet status line: blocks/headers per node, a node lagging more than a few blocks for more
 * than a few seconds flagged BEHIND (and not before), warnings printed when they appear, change
 * and clear — with the figures of issue 11 (a node stuck at 699/1419).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BEHIND_BLOCKS,
  BEHIND_MS,
  blockLine,
  type NodeStatus,
  nodeCell,
  StatusTracker,
  warningText,
} from '../../../scripts/devnet/status.ts';

const HASH = '00000a3c5f0e2b91d4c7aa0e6b1f9c3e5d7b2a4c6e8f0a1b3c5d7e9f1a2b3c4d';
const names = ['node-1', 'node-2', 'node-3'];
const at = (blocks: number, headers = blocks, extra: Partial<NodeStatus> = {}): NodeStatus => ({
  blocks,
  headers,
  bestblockhash: HASH,
  peers: 2,
  warnings: '',
  ...extra,
});

describe('devnet status line', () => {
  it('shows blocks/headers per node, … for a node that does not answer, and the peers', () => {
    assert.equal(
      blockLine(names, [at(1419), at(699, 1419), undefined], [0, 720, 0]),
      `block  1419  00000a3c5f0e2b91…  node-1 1419/1419 · node-2 699/1419 BEHIND 720 · node-3 …  peers 2/2/-`,
    );
    assert.equal(nodeCell('node-4', at(12, 14), 0), 'node-4 12/14');
    assert.equal(nodeCell('node-4', undefined, 5), 'node-4 …');
  });

  it('keeps the shape the devnet integration test reads (node-N <height>)', () => {
    const line = blockLine(names, [at(7), at(699, 1419), undefined], [0, 0, 0]);
    const heights = [...line.matchAll(/node-\d+ (\d+|…)/g)].map((m) => m[1]);
    assert.deepEqual(heights, ['7', '699', '…']);
    assert.ok(line.startsWith('block'));
  });

  it('flags a node behind by more than BEHIND_BLOCKS only after BEHIND_MS, and unflags it when it catches up', () => {
    assert.equal(BEHIND_BLOCKS, 3);
    assert.equal(BEHIND_MS, 10_000);
    const s = new StatusTracker(names);
    const t0 = 1_000_000;
    // node-2 stuck at 699 with every header; the others move on
    assert.deepEqual(s.update([at(699), at(699), at(699)], t0), [
      `block   699  00000a3c5f0e2b91…  node-1 699/699 · node-2 699/699 · node-3 699/699  peers 2/2/2`,
    ]);
    // 3 behind is propagation, not flagged however long it lasts
    assert.doesNotMatch(s.update([at(702), at(699, 702), at(702)], t0 + 1000)[0]!, /BEHIND/);
    assert.doesNotMatch(s.update([at(703), at(700, 703), at(703)], t0 + 30_000)[0]!, /BEHIND/);
    // 4 behind: the clock starts, no flag yet
    const first = s.update([at(704), at(700, 704), at(704)], t0 + 31_000);
    assert.match(first[0]!, /node-2 700\/704 · /);
    assert.match(s.update([at(705), at(700, 705), at(705)], t0 + 41_000)[0]!, /node-2 700\/705 · /);
    // more than 10 s later: flagged, with the gap to the best node
    assert.match(s.update([at(706), at(700, 706), at(706)], t0 + 41_001)[0]!, /node-2 700\/706 BEHIND 6 · /);
    assert.match(
      s.update([at(1419), at(699, 1419), at(1418)], t0 + 60_000)[0]!,
      /^block {2}1419 {2}.*node-1 1419\/1419 · node-2 699\/1419 BEHIND 720 · node-3 1418\/1418 /,
    );
    // caught up (within 3): unflagged at once; falls behind again: the clock starts anew
    assert.doesNotMatch(s.update([at(1420), at(1417, 1420), at(1420)], t0 + 61_000)[0]!, /BEHIND/);
    assert.doesNotMatch(s.update([at(1425), at(1418, 1425), at(1425)], t0 + 62_000)[0]!, /BEHIND/);
    assert.match(
      s.update([at(1426), at(1418, 1426), at(1426)], t0 + 72_001)[0]!,
      /node-2 1418\/1426 BEHIND 8/,
    );
  });

  it('a node that stops answering is shown as … and its clock keeps running', () => {
    const s = new StatusTracker(names);
    s.update([at(100), at(95), at(100)], 0);
    assert.match(s.update([at(101), undefined, at(101)], 5_000)[0]!, /node-2 … · /);
    assert.match(s.update([at(102), at(95), at(102)], 10_001)[0]!, /node-2 95\/95 BEHIND 7/);
  });

  it('prints one line per new best height, nothing when the best does not move, and peer changes', () => {
    const s = new StatusTracker(names);
    assert.equal(s.update([at(5), at(5), at(5)], 0).length, 1);
    assert.deepEqual(s.update([at(5), at(5), at(5)], 1000), []);
    assert.deepEqual(s.update([at(5), at(5), at(5, 5, { peers: 1 })], 2000), ['              peers 2/2/1']);
    // a lower best (the leader went away) prints nothing
    assert.deepEqual(s.update([undefined, at(4), at(4, 4, { peers: 1 })], 3000), []);
    assert.equal(s.update([at(6), at(6), at(6)], 4000).length, 1);
  });

  it('prints a warning line when warnings appear or change, and once when they clear', () => {
    const stalled = 'Block download stalled: headers 1419, blocks 699, no progress for 120 s';
    const s = new StatusTracker(names);
    const lines = s.update([at(1419), at(699, 1419, { warnings: stalled }), at(1419)], 0);
    assert.deepEqual(lines, [
      `  ! node-2 warning: ${stalled} (blocks 699, headers 1419)`,
      `block  1419  00000a3c5f0e2b91…  node-1 1419/1419 · node-2 699/1419 · node-3 1419/1419  peers 2/2/2`,
    ]);
    // the same warning again: not repeated; a node that does not answer keeps it
    assert.deepEqual(s.update([at(1420), at(699, 1420, { warnings: stalled }), undefined], 1000).length, 1);
    assert.deepEqual(s.update([at(1420), undefined, at(1420)], 2000), []);
    // a list (Core ≥ 28) is joined; a change is printed (and the peers, back from 2/2/-)
    assert.deepEqual(
      s.update([at(1420), at(699, 1420, { warnings: [stalled, 'disk nearly full'] }), at(1420)], 3000),
      [
        `  ! node-2 warning: ${stalled}; disk nearly full (blocks 699, headers 1420)`,
        '              peers 2/2/2',
      ],
    );
    assert.deepEqual(
      s.update([at(1421), at(1421, 1421, { warnings: [] }), at(1421)], 4000)[0],
      '  node-2 warning cleared',
    );
    // no warnings field at all, or blanks, is no warning
    assert.equal(warningText(undefined), '');
    assert.equal(warningText(['', ' ']), '');
    assert.equal(warningText('  '), '');
  });
});
