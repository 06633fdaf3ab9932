/**
 * The chain of processes the devnet watches (scripts/devnet/ancestry.ts): under `npm start` its
 * parents up to and including npm (the first without npm_lifecycle_event), otherwise its parent
 * only; a process is gone when its /proc entry is missing, has another start time (a reused pid)
 * or is a zombie.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ancestors, goneAncestor, type ProcReader, parseStat } from '../../../scripts/devnet/ancestry.ts';

/** /proc/<pid>/stat with the fields the code reads: state, ppid, and starttime (field 22). */
const stat = (pid: number, comm: string, ppid: number, started: number, state = 'S') =>
  `${pid} (${comm}) ${state} ${ppid} ${Array.from({ length: 17 }, () => '0').join(' ')} ${started} 0 0`;

function fake(procs: Record<number, { stat: string; env: string[]; cmd: string }>): ProcReader {
  return {
    stat: (pid) => procs[pid]?.stat,
    environ: (pid) => procs[pid]?.env.join('\0'),
    cmdline: (pid) => procs[pid]?.cmd.split(' ').join('\0'),
  };
}

// npm(100) → sh(101) → tsx(102) → devnet(103)
const tree = {
  50: { stat: stat(50, 'bash', 1, 10), env: ['HOME=/root'], cmd: 'bash' },
  100: { stat: stat(100, 'npm start', 50, 20), env: ['HOME=/root'], cmd: 'npm start' },
  101: {
    stat: stat(101, 'sh', 100, 21),
    env: ['npm_lifecycle_event=start'],
    cmd: 'sh -c tsx scripts/devnet.ts',
  },
  102: {
    stat: stat(102, 'node', 101, 22),
    env: ['npm_lifecycle_event=start'],
    cmd: 'node tsx scripts/devnet.ts',
  },
};

describe('devnet ancestry watch', () => {
  it('parses ppid and start time, even with spaces and parentheses in the name', () => {
    assert.deepEqual(parseStat(stat(7, 'a) b (c', 3, 12345)), { ppid: 3, started: 12345 });
  });

  it('under npm: the parents up to and including npm, not the shell above it', () => {
    const chain = ancestors({ ppid: 102, underNpm: true }, fake(tree));
    assert.deepEqual(
      chain.map((a) => [a.pid, a.started]),
      [
        [102, 22],
        [101, 21],
        [100, 20],
      ],
    );
    assert.equal(chain[2]!.command, 'npm start');
  });

  it('not under npm: the parent only', () => {
    assert.deepEqual(
      ancestors({ ppid: 102, underNpm: false }, fake(tree)).map((a) => a.pid),
      [102],
    );
  });

  it('a process is gone when missing, replaced (other start time) or a zombie', () => {
    const chain = ancestors({ ppid: 102, underNpm: true }, fake(tree));
    assert.equal(goneAncestor(chain, fake(tree)), undefined);
    const { 101: _sh, ...noShell } = tree;
    assert.equal(goneAncestor(chain, fake(noShell))?.pid, 101);
    assert.equal(
      goneAncestor(chain, fake({ ...tree, 100: { ...tree[100], stat: stat(100, 'other', 1, 99) } }))?.pid,
      100,
    );
    assert.equal(
      goneAncestor(chain, fake({ ...tree, 100: { ...tree[100], stat: stat(100, 'npm start', 50, 20, 'Z') } }))
        ?.pid,
      100,
    );
  });
});
