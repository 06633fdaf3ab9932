/**
 * A node keeps following the chain through the faults of issue 11, with real cairnd processes:
 *  - stopped (SIGSTOP) for seconds while its peer keeps mining and relaying, then resumed: it
 *    catches up with one active tip and no warning left;
 *  - syncing onto a disk that fills up: a clean stop (exit 3, `stopped`, pid file removed, no
 *    stack trace); once space is freed a restart resyncs to the peer's tip while the peer keeps
 *    mining (the restart that used to stay at blocks < headers for good); a read-only data
 *    directory: exit 3 with one line that says how to fix it.
 *  - asked to stop (SIGTERM) in the middle of a sync of large blocks: it stops at once, cleanly,
 *    at a committed block, and the restart finishes the sync.
 * The disk part needs root to mount a tmpfs; it is skipped with the reason otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ChainState } from '../../services/node/chain-state.ts';
import { encodeAddress } from '../../shared/core/address.ts';
import { LOCAL } from '../../shared/core/params/networks.ts';
import { silentLogger } from '../../shared/log.ts';
import { writeChain } from '../helpers/archive.ts';
import { buildWideChain, makeKey } from '../helpers/chain.ts';
import { eventually, makeNode, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';
import { rpc, rpcResult } from '../helpers/rpc.ts';
import { mountTmpfs, unmount, whyNoTmpfs } from '../helpers/tmpfs.ts';

const root = tempDir('cairn-it-recovery-');
const nodes: NodeProcess[] = [];
const mounted: string[] = [];
after(async () => {
  for (const n of nodes) {
    if (n.proc !== undefined && n.exitCode === null) n.proc.kill('SIGCONT');
    await n.kill();
  }
  for (const m of mounted) unmount(m);
  root.remove();
});

const payout = encodeAddress(LOCAL.addressPrefix, makeKey().owner);
const mine = (n: NodeProcess, count: number) => rpcResult<string[]>(n, 'generatetoaddress', [count, payout]);

/** Mines one block every `ms` on `n` until stopped (the network moving on during a fault). */
function keepMining(n: NodeProcess, ms: number): { stop: () => Promise<void> } {
  let on = true;
  const loop = (async () => {
    while (on) {
      await mine(n, 1).catch(() => undefined);
      await new Promise((r) => setTimeout(r, ms));
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
    },
  };
}

async function activeTips(n: NodeProcess): Promise<number> {
  const tips = await rpcResult<{ status: string }[]>(n, 'getchaintips');
  return tips.filter((t) => t.status === 'active').length;
}

/** Waits until `n` is at `src`'s height (src no longer mining), then checks the status is honest. */
async function caughtUp(n: NodeProcess, src: NodeProcess, timeoutMs: number): Promise<void> {
  const target = await rpcResult<number>(src, 'getblockcount');
  await eventually(
    `${n.name} at ${src.name}'s height ${target}`,
    async () => (await rpc(n, 'getblockcount').catch(() => undefined))?.body?.result === target,
    timeoutMs,
  );
  assert.equal(await activeTips(n), 1, 'exactly one active tip');
  const info = await rpcResult<{ blocks: number; headers: number; warnings: string[] }>(
    n,
    'getblockchaininfo',
  );
  assert.equal(info.blocks, info.headers);
  assert.deepEqual(info.warnings, []);
  // the same UTXO set as the peer's, at the same tip
  type SetInfo = {
    height: number;
    bestblock: string;
    txouts: number;
    hash_serialized: string;
    total_amount: number;
  };
  const [ours, theirs] = await Promise.all([
    rpcResult<SetInfo>(n, 'gettxoutsetinfo'),
    rpcResult<SetInfo>(src, 'gettxoutsetinfo'),
  ]);
  assert.deepEqual(ours, theirs);
  assert.equal(ours.height, target);
  assert.ok(ours.txouts > 0 && ours.total_amount > 0);
  assert.match(ours.hash_serialized, /^[0-9a-f]{64}$/);
}

describe('sync recovers from a stopped process', { timeout: 180_000 }, () => {
  it('a node stopped for seconds while its peer mines catches up by itself', async () => {
    const a = await makeNode({ name: 'a', root: root.path });
    nodes.push(a);
    await a.start();
    await mine(a, 50);
    const b = await makeNode({ name: 'b', root: root.path, connect: [{ address: a.address, key: a.key }] });
    nodes.push(b);
    await b.start();
    await caughtUp(b, a, 60_000);
    for (let round = 0; round < 3; round++) {
      b.proc!.kill('SIGSTOP');
      const miner = keepMining(a, 20);
      await new Promise((r) => setTimeout(r, 4_000 + 1_000 * round));
      b.proc!.kill('SIGCONT');
      // the peer keeps mining and relaying while b catches up: blocks relayed on top of headers
      // whose blocks b still lacks are what stalled sync for good
      await eventually(
        `b within 3 blocks of a while a mines (round ${round})`,
        async () => {
          const [ha, hb] = await Promise.all([
            rpcResult<number>(a, 'getblockcount'),
            rpcResult<number>(b, 'getblockcount'),
          ]);
          return ha - hb <= 3;
        },
        60_000,
      );
      await miner.stop();
      await caughtUp(b, a, 60_000);
    }
  });
});

const noTmpfs = whyNoTmpfs();
describe('sync recovers from a full disk', { skip: noTmpfs, timeout: 240_000 }, () => {
  it('stops cleanly within moments when asked to in the middle of a sync, and the restart finishes it', async () => {
    // blocks of 65 signatures: the verify worker's size (a stop used to wait 30 s on a batch
    // posted to the worker being terminated, then exit 1 on the stop watchdog)
    const HEIGHT = 200;
    const src = await makeNode({ name: 'wide', root: root.path });
    nodes.push(src);
    await writeChain(src.dir, buildWideChain(HEIGHT, 64));
    await src.start();
    for (let attempt = 1; ; attempt++) {
      const b = await makeNode({
        name: `mid-${attempt}`,
        root: root.path,
        connect: [{ address: src.address, key: src.key }],
        verifyWorkers: 1,
      });
      nodes.push(b);
      await b.start();
      // the first blocks connected: the rest are on their way and being verified
      const end = Date.now() + 60_000;
      while (Number((await rpc(b, 'getblockcount').catch(() => undefined))?.body?.result ?? 0) < 1) {
        assert.ok(Date.now() < end, `${b.name} did not start syncing`);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(await b.stop(), 0, `exit code 0 (stderr: ${b.stderr.slice(-500)})`);
      assert.ok(
        b.logs.some((l) => l.msg === 'stopped'),
        'the stop was clean',
      );
      assert.ok(!b.logs.some((l) => /clean stop took more than/.test(l.msg)), 'within the stop watchdog');
      assert.ok(!existsSync(join(b.dir, 'cairnd.pid')), 'pid file removed');
      const state = await ChainState.open({ dataDir: b.dir, params: LOCAL }, { logger: silentLogger() });
      const stoppedAt = state.chain.tipHeight();
      assert.deepEqual(state.chain.checkInvariants(true), []);
      await state.close();
      if (stoppedAt === HEIGHT && attempt < 3) continue; // the sync ended before the stop: again
      assert.ok(stoppedAt < HEIGHT, `stopped in the middle (at ${stoppedAt} of ${HEIGHT})`);
      await b.start();
      await caughtUp(b, src, 60_000);
      break;
    }
  });

  it('stops cleanly when the disk fills during sync, resyncs once space is freed, refuses a read-only disk', async () => {
    const a = await makeNode({ name: 'src', root: root.path });
    nodes.push(a);
    await a.start();
    for (let i = 0; i < 4; i++) await mine(a, 100);
    const dataRoot = join(root.path, 'small');
    const b = await makeNode({
      name: 'b',
      root: dataRoot,
      connect: [{ address: a.address, key: a.key }],
      extra: '[storage]\nmin_free_mb = 1',
    });
    nodes.push(b);
    // the tmpfs goes over the node's directory after its identity and config were written there
    const dir = b.dir;
    const keep = mkdtempSync(join(root.path, 'keep-'));
    cpSync(dir, keep, { recursive: true });
    mountTmpfs(dir, '8m');
    mounted.push(dir);
    cpSync(keep, dir, { recursive: true });
    // a filler leaves the 1 MB reserve and ~300 KB: the database outgrows that about half-way
    // through the peer's 400 blocks, and the node stops on the reserve
    const free = statfsSync(dir);
    writeFileSync(join(dir, 'filler'), Buffer.alloc(Math.max(0, free.bavail * free.bsize - 1_300_000)));

    // 1: the disk fills during sync: a clean stop, exit 3
    const miner = keepMining(a, 100);
    await b.start();
    assert.equal(await b.exited(), 3, `exit code 3 (stderr: ${b.stderr.slice(-500)})`);
    assert.ok(b.logs.some((l) => /storage failed, stopping: disk space is too low/.test(l.msg)));
    assert.ok(
      b.logs.some((l) => l.msg === 'stopped'),
      'the stop was clean',
    );
    assert.ok(!existsSync(join(dir, 'cairnd.pid')), 'pid file removed');
    assert.doesNotMatch(b.stderr, /^\s+at |Uncaught|unexpected failure/m, 'no stack trace');
    assert.ok(!b.logs.some((l) => /unexpected failure/.test(l.msg)), 'no unexpected failure logged');

    // 2: space freed, the network moved on meanwhile: the restart resyncs to the tip
    rmSync(join(dir, 'filler'));
    b.logs.length = 0;
    await b.start();
    await new Promise((r) => setTimeout(r, 3_000));
    await miner.stop();
    await caughtUp(b, a, 90_000);
    assert.equal(await b.stop(), 0);

    // 3: a read-only data directory is an operator error, said in one line
    execMount(['-o', 'remount,ro', dir]);
    b.logs.length = 0;
    b.stderr = '';
    await b.start().catch(() => undefined);
    const code = await b.exited();
    execMount(['-o', 'remount,rw', dir]);
    assert.equal(code, 3, `exit code 3 on a read-only disk (stderr: ${b.stderr.slice(-300)})`);
    const said = [...b.logs.map((l) => l.msg), b.stderr].join('\n');
    assert.match(said, /read-only file system: remount it read-write/);
    assert.doesNotMatch(said, /^\s+at |unexpected failure/m);
  });
});

function execMount(args: string[]): void {
  execFileSync('mount', args);
}
