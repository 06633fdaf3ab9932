/** The discovery state file: atomic, private, reloaded; a damaged file is reported and skipped. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadState, removeStaleTemps, saveState } from '../../../services/discovery/state-file.ts';
import { tempDir } from '../../helpers/node.ts';

const dir = tempDir('cairn-dstate-');
after(() => dir.remove());

const entries = [
  { key: 'k1', addresses: ['1.2.3.4:2136'], height: 3, firstSeen: 1, lastSeen: 2, expires: 3 },
  { key: 'k2', addresses: [], height: 0, firstSeen: 1, lastSeen: 2, expires: 3 },
];

describe('discovery state file', () => {
  it('saves (mode 0600) and loads the same entries', async () => {
    const p = join(dir.path, 'sub', 'state.json');
    await saveState(p, entries, 100);
    assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.deepEqual(await loadState(p), { entries });
    await saveState(p, entries.slice(1), 101); // replaces atomically
    assert.deepEqual((await loadState(p)).entries, entries.slice(1));
  });

  it('a missing file is an empty registry without error', async () => {
    assert.deepEqual(await loadState(join(dir.path, 'none.json')), { entries: [] });
  });

  it('a damaged file is reported and skipped', async () => {
    const p = join(dir.path, 'damaged.json');
    await saveState(p, entries, 100);
    const good = readFileSync(p, 'utf8');
    const cases: [string, RegExp][] = [
      [good.replace('1.2.3.4', '1.2.3.5'), /checksum/],
      [good.slice(0, good.length / 2), /not JSON/],
      [good.replace('"version":1', '"version":9'), /version/],
      ['{"format":"something else"}', /not a cairn-discovery state file/],
      ['null', /not a cairn-discovery state file/],
    ];
    for (const [text, error] of cases) {
      writeFileSync(p, text);
      const loaded = await loadState(p);
      assert.deepEqual(loaded.entries, []);
      assert.match(loaded.error ?? '', error);
    }
  });

  it('a save that fails on a full disk leaves no temp file behind', async () => {
    const p = join(dir.path, 'full', 'state.json');
    mkdirSync(join(dir.path, 'full'));
    // the temp file's name is known: make it /dev/full, where every write fails with ENOSPC
    const tmp = `${p}.${process.pid}.tmp`;
    symlinkSync('/dev/full', tmp);
    await assert.rejects(saveState(p, entries, 100), /ENOSPC/);
    assert.equal(existsSync(p), false);
    assert.throws(() => lstatSync(tmp), /ENOENT/, 'the temp file was removed');
  });

  it('removes the temp files of unfinished saves by processes that are gone, and only those', async () => {
    const d = join(dir.path, 'stale');
    mkdirSync(d);
    const p = join(d, 'state.json');
    const gone = spawnSync('true').pid!; // exited: its pid no longer runs
    const files = {
      dead: `state.json.${gone}.tmp`,
      live: `state.json.${process.pid}.tmp`,
      other: `other.json.${gone}.tmp`,
      odd: 'state.json.x1.tmp',
    };
    for (const f of Object.values(files)) writeFileSync(join(d, f), 'partial');
    assert.deepEqual(await removeStaleTemps(p), [files.dead]);
    assert.equal(existsSync(join(d, files.dead)), false);
    for (const f of [files.live, files.other, files.odd]) assert.ok(existsSync(join(d, f)), f);
    assert.deepEqual(await removeStaleTemps(join(dir.path, 'no-such-dir', 'state.json')), []);
  });
});
