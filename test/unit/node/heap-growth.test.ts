/**
 * HeapGrowth: V8's old-generation growth limited while a sync runs and given back to V8 after it
 * and at stop; an operator's --heap-growing-percent on node's command line is left alone.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { HeapGrowth } from '../../../services/node/memory/heap-growth.ts';

it('limits the heap growth while syncing, gives it back after, and leaves an operator’s flag alone', () => {
  let syncing = false;
  const flags: string[] = [];
  const setFlag = (f: string) => {
    flags.push(f);
    setFlagsFromString(f); // the real call: V8 must take the flag
  };
  const g = new HeapGrowth({ percent: 25 }, { syncing: () => syncing, execArgv: [], setFlag });
  g.check();
  assert.deepEqual(flags, [], 'not syncing: V8 chooses');
  syncing = true;
  g.check();
  g.check();
  assert.equal(g.limited, true);
  assert.deepEqual(flags, ['--heap-growing-percent=25'], 'set once');
  syncing = false;
  g.check();
  assert.equal(g.limited, false);
  syncing = true;
  g.check();
  g.stop();
  assert.deepEqual(flags, [
    '--heap-growing-percent=25',
    '--heap-growing-percent=0',
    '--heap-growing-percent=25',
    '--heap-growing-percent=0',
  ]);

  const operator = new HeapGrowth(
    {},
    { syncing: () => true, execArgv: ['--heap_growing_percent=50'], setFlag },
  );
  operator.check();
  operator.stop();
  assert.equal(operator.inert, true);
  assert.equal(flags.length, 4, 'the operator’s value stands');
});
