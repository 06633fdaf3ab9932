/**
 * The network simulation, small and short: 6 nodes (and a late joiner) in network namespaces with
 * 50 ± 20 ms links and 0.5% loss, one mining node, churn, a transaction load, one measured minute.
 * Checks that `npm run sim` writes its three results and that the report's figures are there and
 * plausible, and that every node ends on one tip. Needs root (network namespaces): otherwise it
 * is skipped with the reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { netnsUnavailable } from '../../scripts/sim/netns.ts';
import type { Report } from '../../scripts/sim/report.ts';
import { tempDir } from '../helpers/node.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const skip = netnsUnavailable(`cairn-simt${process.pid}`);
const root = tempDir('cairn-it-sim-');
after(() => root.remove());

describe('network simulation', { skip, timeout: 480_000 }, () => {
  it('6 nodes with latency, loss, churn and load: a full report, and one tip at the end', async () => {
    const results = join(root.path, 'results');
    const args = [
      '--nodes',
      '6',
      '--recorders',
      '1',
      '--latency',
      '50ms',
      '--jitter',
      '20ms',
      '--loss',
      '0.5%',
      '--minutes',
      '1',
      '--block-interval',
      '4s',
      '--tx-rate',
      '3',
      '--churn-every',
      '20',
      '--churn-down',
      '4-8',
      '--results',
      results,
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/sim.ts'), ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, out.slice(-4000));
    for (const f of ['report.json', 'report.svg', 'report.txt']) assert.ok(existsSync(join(results, f)), f);
    assert.match(readFileSync(join(results, 'report.svg'), 'utf8'), /^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    const r = JSON.parse(readFileSync(join(results, 'report.json'), 'utf8')) as Report;

    assert.equal(r.nodes, 7, 'six nodes and the late joiner');
    assert.ok(r.blocks.bestChain >= 5, `blocks in a minute at one per 4 s: ${JSON.stringify(r.blocks)}`);
    assert.ok(
      r.blocks.staleRate !== null && r.blocks.staleRate >= 0 && r.blocks.staleRate < 0.5,
      `${r.blocks.staleRate}`,
    );
    const bp = r.blockPropagation;
    assert.ok(bp.to50.n > 0 && bp.to90.n > 0 && bp.to100.n > 0, JSON.stringify(bp));
    // a block crosses at least one 50 ms link (30..70 ms with jitter) before a second node has it
    assert.ok(bp.to90.medianMs! >= 30 && bp.to90.medianMs! < 30_000, `90%: ${JSON.stringify(bp.to90)}`);
    assert.ok(
      bp.to50.medianMs! <= bp.to90.medianMs! && bp.to90.medianMs! <= bp.to100.medianMs!,
      JSON.stringify(bp),
    );
    assert.ok(r.txPropagation.sent > 20 && r.txPropagation.to90.n > 0, JSON.stringify(r.txPropagation));
    assert.ok(r.txPropagation.to90.medianMs! >= 30, JSON.stringify(r.txPropagation.to90));
    assert.ok(
      r.bytesPerNodePerBlock.wire !== null && r.bytesPerNodePerBlock.wire.mean > 500,
      JSON.stringify(r.bytesPerNodePerBlock),
    );
    assert.ok(r.bytesPerNodePerBlock.payload !== null && r.bytesPerNodePerBlock.payload.mean > 0);
    // getpeerinfo's per-command counters split it: blocks moved, and they are part of the payload
    const blocks = r.bytesPerNodePerBlock.blockRelay;
    assert.ok(blocks !== null && blocks.mean > 0 && blocks.mean <= r.bytesPerNodePerBlock.payload.mean);
    assert.ok(
      r.peers.overWindow !== null && r.peers.overWindow.min >= 0 && r.peers.overWindow.max >= 2,
      JSON.stringify(r.peers),
    );
    assert.ok(
      r.sync !== null && r.sync.secondsToTarget !== null && r.sync.secondsToTarget > 0,
      JSON.stringify(r.sync),
    );
    assert.ok(r.churn.stops >= 1, JSON.stringify(r.churn));
    assert.equal(typeof r.machine.machineBound, 'boolean');
    assert.ok(r.machine.cpuBusyMeanPct >= 0 && r.machine.cpuBusyMeanPct <= 100);
    assert.match(r.machine.verdict, /^(faithful|MACHINE-BOUND)/);
    assert.deepEqual(r.unexpectedExits, [], 'no process ended on its own');
    assert.ok(r.tips.oneTip, `all nodes end on one tip: ${JSON.stringify(r.tips)}`);
    assert.match(out, /block propagation/);
  });
});
