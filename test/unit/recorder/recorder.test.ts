/**
 * The recorder end to end against two fake nodes (real sockets, real hash workers): blocks found
 * and accepted, mining moves on to the other node when one goes away, round-robin shares the
 * workers, periodic stats lines without flooding.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeLinkOptions } from '../../../services/recorder/node-link.ts';
import { Recorder, type RecorderOptions } from '../../../services/recorder/recorder.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { silentLogger } from '../../../shared/log.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { captureLogger, FAST, keys, until } from '../zmq/helpers.ts';
import { freePorts } from '../zmq/ports.ts';
import { FakeNode, type FakeNodeOptions } from './fake-node.ts';

const zap = new ZapHandler({ logger: silentLogger() });
const me = keys();
const nodeKeys = keys();
const fakes: FakeNode[] = [];
const recorders: Recorder[] = [];

before(async () => {
  await zap.start();
  zap.setPolicy('proof', { allow: new Set([me.publicKey]) });
});
after(async () => {
  for (const r of recorders) await r.stop();
  for (const f of fakes) await f.stop();
  await zap.stop();
});

async function fake(extra: Partial<FakeNodeOptions> = {}): Promise<FakeNode> {
  const [jobsPort, submitPort] = await freePorts(2);
  // a block every ~16k hashes: a few per second on one worker
  const f = new FakeNode({
    jobsPort: jobsPort!,
    submitPort: submitPort!,
    keys: nodeKeys,
    target: 1n << 242n,
    ...extra,
  });
  await f.start();
  fakes.push(f);
  return f;
}

function nodeOptions(f: FakeNode, name: string): NodeLinkOptions {
  return {
    name,
    jobsEndpoint: f.jobsEndpoint,
    submitEndpoint: f.submitEndpoint,
    nodeKey: nodeKeys.publicKey,
    params: LOCAL,
    payout: new Uint8Array(20).fill(1),
    identity: me,
    requestTimeoutMs: 1_000,
    helloRetryMs: 100,
    heartbeat: FAST.heartbeat,
    reconnectIntervalMs: FAST.reconnectIntervalMs,
    reconnectMaxIntervalMs: FAST.reconnectMaxIntervalMs,
  };
}

async function recorder(opts: RecorderOptions, logger = silentLogger()): Promise<Recorder> {
  const r = new Recorder(opts, { logger });
  recorders.push(r);
  await r.start();
  return r;
}

describe('Recorder', () => {
  it('mines the latest job, and keeps mining for the other node when one goes away', async () => {
    const a = await fake();
    const b = await fake();
    const { logger, lines } = captureLogger('info');
    const t0 = Date.now();
    const r = await recorder(
      { nodes: [nodeOptions(a, 'A'), nodeOptions(b, 'B')], workers: 1, statsIntervalMs: 400 },
      logger,
    );
    await until(() => a.count('ok') + b.count('ok') >= 3, 20_000, 'blocks');
    const [busy, other] = a.count('ok') >= b.count('ok') ? [a, b] : [b, a];
    await busy.stop();
    const before = other.count('ok');
    await until(() => other.count('ok') >= before + 3, 20_000, 'blocks for the node still up');
    for (const f of [a, b])
      assert.deepEqual(
        f.submissions.filter((s) => s.status !== 'ok' && s.status !== 'stale'),
        [],
        'every submission was a block (or raced a new job)',
      );
    // the recorder counts a block when the answer arrives, just after the fake counted it
    await until(() => r.stats().accepted >= a.count('ok') + b.count('ok'), 5_000, 'the last answers');
    const s = r.stats();
    assert.ok(s.accepted >= 6, `accepted ${s.accepted}`);
    assert.equal(s.rejected, 0);
    await r.stop();
    const stats = lines.filter((l) => typeof l.msg === 'string' && /^hashing at /.test(l.msg));
    assert.ok(stats.length >= 1, 'a stats line');
    assert.ok(
      stats.length <= Math.ceil((Date.now() - t0) / 400) + 2,
      `${stats.length} stats lines: flooding`,
    );
    assert.ok(stats.some((l) => (l.hashrate as number) > 0));
    const blockLines = lines.filter((l) => typeof l.msg === 'string' && /^block \d+ found/.test(l.msg));
    assert.ok(blockLines.length >= 1 && blockLines.length <= s.accepted, `${blockLines.length} block lines`);
  });

  it('round-robin gives every node a turn', async () => {
    const a = await fake();
    const b = await fake();
    const r = await recorder({
      nodes: [nodeOptions(a, 'A'), nodeOptions(b, 'B')],
      workers: 1,
      strategy: 'round-robin',
      rotateMs: 300,
    });
    await until(() => a.count('ok') >= 2 && b.count('ok') >= 2, 20_000, 'blocks for both nodes');
    await r.stop();
  });

  it('a block the node refuses for now (rate limit) is retried after a pause, not at once', async () => {
    // every other hash is a block: resuming at once would flood the node
    const f = await fake({ target: (1n << 255n) - 1n, rateLimitFirst: 1 });
    const r = await recorder({ nodes: [nodeOptions(f, 'A')], workers: 1, resumeDelayMs: 300 });
    await until(() => f.rateLimited === 1, 10_000, 'the refused block');
    const refusedAt = Date.now();
    await until(() => f.count('ok') >= 1, 10_000, 'a block after the pause');
    assert.ok(Date.now() - refusedAt >= 250, 'resumed only after resumeDelayMs');
    assert.equal(r.stats().rejected, 1);
    await r.stop();
  });

  it('a stop while blocks are being found and submitted warns of nothing', async () => {
    // every other hash is a block: finds and submissions are in flight whenever the stop comes
    for (let round = 0; round < 3; round++) {
      const f = await fake({ target: (1n << 255n) - 1n });
      const { logger, lines } = captureLogger('warn');
      const r = await recorder({ nodes: [nodeOptions(f, 'A')], workers: 1 }, logger);
      await until(() => f.count('ok') >= 3 + round * 5, 10_000, 'blocks');
      await r.stop();
      await f.stop();
      assert.deepEqual(
        lines.map((l) => l.msg),
        [],
        'a find or submission the stop cut off is not a failure of the node',
      );
      assert.equal(r.stats().nodes[0]!.counters.failed, 0);
    }
  });

  it('sleeps when no node has a job, and stops cleanly', { timeout: 30_000 }, async () => {
    const [jobsPort, submitPort] = await freePorts(2);
    const r = await recorder({
      nodes: [
        nodeOptions(
          new FakeNode({ jobsPort: jobsPort!, submitPort: submitPort!, keys: nodeKeys }), // never started
          'down',
        ),
      ],
      workers: 1,
    });
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(r.mining, undefined);
    assert.equal(r.stats().hashes, 0);
    // bounded by the test's own timeout (a stop waiting on the dead node would hang it)
    await r.stop();
  });
});
