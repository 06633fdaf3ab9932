/**
 * A real cairnd whose data directory fills up: the failed write is logged as fatal and the node
 * stops cleanly with exit code 3 (storage), the way service managers are told not to restart it
 * blindly (docs/operations.md); it starts again at its last committed block once space is free.
 * Needs root to mount a tmpfs; skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeAddress } from '../../shared/core/address.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { makeKey } from '../helpers/chain.ts';
import { makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { rpc } from '../helpers/rpc.ts';
import { mountTmpfs, resizeTmpfs, unmount, whyNoTmpfs } from '../helpers/tmpfs.ts';

const skip = whyNoTmpfs();
const root = tempDir('cairn-it-storage-');
let node: NodeProcess | undefined;
after(async () => {
  await node?.kill();
  if (skip === undefined) unmount(root.path);
  root.remove();
});

describe('cairnd on a full disk', { skip, timeout: 120_000 }, () => {
  it('stops with exit code 3 after a failed write, and restarts at its last block once space is free', async () => {
    // small: a few hundred blocks take the room above the 2 MB reserve (more would get slow to
    // mine as ASERT hardens); the node stops on the reserve, before LMDB meets ENOSPC
    mountTmpfs(root.path, '2600k');
    node = await makeNode({ name: 'n', root: root.path, extra: '[storage]\nmin_free_mb = 2' });
    await node.start();
    const addr = encodeAddress(LOCAL.addressPrefix, makeKey().owner);
    let lastHeight = 0;
    for (let i = 0; i < 400 && node.exitCode === null; i++) {
      const r = await rpc(node, 'generatetoaddress', [10, addr]).catch(() => undefined);
      if (r?.body?.error != null || r === undefined) break;
      lastHeight += (r.body!.result as string[]).length;
    }
    assert.equal(await node.exited(), 3, `exit code (stderr: ${node.stderr.slice(-300)})`);
    const fatal = node.logs.find((l) => /storage failed, stopping/.test(l.msg));
    assert.ok(fatal, 'the fatal line names the failure');
    assert.match(fatal.msg, /disk space is too low: .* MB free under .*storage\.min_free_mb is 2\.0/);
    assert.ok(
      node.logs.some((l) => l.msg === 'stopped'),
      'the stop was clean',
    );

    resizeTmpfs(root.path, '32m');
    assert.ok(!existsSync(join(node.dir, 'cairnd.pid')), 'pid file removed');
    node.logs.length = 0; // wait for this start's own "started" line
    await node.start();
    const r = await rpc(node, 'getblockcount');
    const height = r.body!.result as number;
    assert.ok(
      height >= lastHeight && height <= lastHeight + 10,
      `restarted at ${height}, last answered ${lastHeight}`,
    );
  });
});
