/**
 * PipelineClient against the real RequestServer over CURVE on loopback: several requests in
 * flight on one connection (a lockstep REQ could never have them queued at the server at once),
 * replies matched by id, the window bound, a silent server (timeouts, the socket replaced, later
 * requests served again), a late reply dropped, closing.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { silentLogger } from '../../../shared/log.ts';
import { PipelineClient } from '../../../shared/zmq/pipeline-client.ts';
import { type RequestHandler, RequestServer } from '../../../shared/zmq/server.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { FAST, keys, sleep, until } from './helpers.ts';
import { freePort } from './ports.ts';

const DOMAIN = 'pipeline';
const zap = new ZapHandler({ logger: silentLogger() });
const serverKeys = keys();
const clientKeys = keys();
let server: RequestServer;
let endpoint: string;
/** Requests the server has received (counted when they arrive, before they are served). */
let arrived = 0;
let gate: Promise<void> = Promise.resolve();

const handler: RequestHandler = async (req) => {
  const cmd = req.frames[0]!.toString();
  if (cmd === 'gate') await gate;
  if (cmd.startsWith('slow:')) await sleep(Number(cmd.slice(5)));
  return [Buffer.from('re'), ...req.frames];
};

before(async () => {
  await zap.start();
  zap.setPolicy(DOMAIN, { allow: 'any' });
  const port = await freePort();
  endpoint = `tcp://127.0.0.1:${port}`;
  server = new RequestServer(
    { endpoints: [endpoint], keys: serverKeys, zapDomain: DOMAIN, heartbeat: FAST.heartbeat },
    { logger: silentLogger() },
  );
  await server.start(async (req) => {
    arrived++;
    return handler(req);
  });
});

after(async () => {
  await server.stop();
  await zap.stop();
});

function client(opts: { timeoutMs?: number; maxInFlight?: number } = {}): PipelineClient {
  return new PipelineClient(
    {
      endpoint,
      keys: clientKeys,
      serverKey: serverKeys.publicKey,
      defaultTimeoutMs: opts.timeoutMs ?? 5_000,
      maxInFlight: opts.maxInFlight,
      ...FAST,
    },
    { logger: silentLogger() },
  );
}

it('keeps several requests in flight on one connection and matches each reply to its request', async () => {
  const c = client();
  try {
    let open!: () => void;
    gate = new Promise<void>((r) => {
      open = r;
    });
    arrived = 0;
    const first = c.request(['gate']);
    const rest = [1, 2, 3, 4, 5, 6].map((i) => c.request(['echo', String(i)]));
    // the first is held by the server: the next three reach it anyway (window 4), the others wait
    await until(
      () => arrived === 1 && server.counters.pending === 4,
      5_000,
      'three requests queued behind the first',
    );
    assert.equal(c.inFlight, 4);
    open();
    assert.deepEqual((await first).map(String), ['re', 'gate']);
    const replies = await Promise.all(rest);
    assert.deepEqual(
      replies.map((r) => r.map(String)),
      [1, 2, 3, 4, 5, 6].map((i) => ['re', 'echo', String(i)]),
    );
    assert.equal(c.counters.replies, 7);
  } finally {
    gate = Promise.resolve();
    c.close();
  }
});

it('with a window of 1 it is lockstep: nothing waits at the server behind a held request', async () => {
  const c = client({ maxInFlight: 1 });
  try {
    let open!: () => void;
    gate = new Promise<void>((r) => {
      open = r;
    });
    const first = c.request(['gate']);
    const second = c.request(['echo']);
    await until(() => server.counters.pending >= 1, 5_000, 'the first request');
    await sleep(200);
    assert.equal(server.counters.pending, 1);
    open();
    await Promise.all([first, second]);
  } finally {
    gate = Promise.resolve();
    c.close();
  }
});

it('a request left unanswered times out, the socket is replaced, and the next one is served', async () => {
  const c = client({ timeoutMs: 300 });
  try {
    const slow = c.request(['slow:1000']);
    const behind = c.request(['echo', 'behind']);
    await assert.rejects(slow, { code: 'transport-timeout' });
    // sent into the same silence: it fails too rather than wait for a socket that was thrown away
    await assert.rejects(behind, { code: 'transport-timeout' });
    assert.equal(c.counters.rebuilds, 1);
    assert.deepEqual((await c.request(['echo', 'after'], { timeoutMs: 3_000 })).map(String), [
      're',
      'echo',
      'after',
    ]);
  } finally {
    c.close();
  }
});

it('a late reply to a request that timed out is dropped when other replies show the link alive', async () => {
  const c = client();
  try {
    // a 150 ms request answered after its 100 ms deadline, while a short one behind it... is
    // behind it (the server answers a connection in order), so send the short one first
    const quick = c.request(['echo', 'quick'], { timeoutMs: 2_000 });
    const late = c.request(['slow:300'], { timeoutMs: 200 });
    await quick;
    await assert.rejects(late, { code: 'transport-timeout' });
    await until(() => c.counters.late === 1, 3_000, 'the late reply');
    assert.equal(c.counters.rebuilds, 0, 'a reply came after it was sent: the link is alive');
    assert.deepEqual((await c.request(['echo', 'next'])).map(String), ['re', 'echo', 'next']);
  } finally {
    c.close();
  }
});

it('close rejects what is queued and in flight', async () => {
  const c = client();
  const pending = [c.request(['slow:500']), c.request(['echo'])];
  c.close();
  for (const p of pending) await assert.rejects(p, { code: 'transport-closed' });
  await assert.rejects(c.request(['echo']), { code: 'transport-closed' });
});
