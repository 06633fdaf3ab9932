/**
 * RequestServer + RequestClient over CURVE on loopback: round trips, concurrency, back-pressure,
 * malformed input, handler errors, timeouts, restarts, size limits, closing, IPv6.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dealer } from 'zeromq';
import { UsageError } from '../../../shared/core/errors.ts';
import { silentLogger } from '../../../shared/log.ts';
import { RequestClient, type RequestClientOptions } from '../../../shared/zmq/client.ts';
import { clientOptions } from '../../../shared/zmq/curve.ts';
import { type RequestHandler, RequestServer, type RequestServerOptions } from '../../../shared/zmq/server.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { captureLogger, FAST, keys, sleep, until } from './helpers.ts';
import { freePort, freePorts, hasIpv6Loopback } from './ports.ts';

const DOMAIN = 'test';
const zap = new ZapHandler({ logger: silentLogger() });
const serverKeys = keys();
const clientKeys = keys();
const servers = new Set<RequestServer>();
const clients = new Set<RequestClient>();

/** Echo handler: 'slow:<ms>' sleeps first; 'throw' throws; 'usage' throws a CairnError; 'empty' returns []. */
const handler: RequestHandler = async (req) => {
  const cmd = req.frames[0]!.toString();
  if (cmd.startsWith('slow:')) await sleep(Number(cmd.slice(5)));
  if (cmd === 'throw') throw new Error('secret internals');
  if (cmd === 'usage') throw new UsageError('you asked for it');
  if (cmd === 'empty') return [];
  return [Buffer.from('re'), ...req.frames];
};

async function server(
  port: number,
  opts: Partial<RequestServerOptions> = {},
  h: RequestHandler = handler,
  logger = silentLogger(),
): Promise<RequestServer> {
  const s = new RequestServer(
    {
      endpoints: [`tcp://127.0.0.1:${port}`],
      keys: serverKeys,
      zapDomain: DOMAIN,
      heartbeat: FAST.heartbeat,
      ...opts,
    },
    { logger },
  );
  await s.start(h);
  servers.add(s);
  return s;
}

async function stopServer(s: RequestServer): Promise<void> {
  await s.stop();
  servers.delete(s);
}

function client(endpoint: string | number, opts: Partial<RequestClientOptions> = {}): RequestClient {
  const c = new RequestClient(
    {
      endpoint: typeof endpoint === 'number' ? `tcp://127.0.0.1:${endpoint}` : endpoint,
      keys: clientKeys,
      serverKey: serverKeys.publicKey,
      ...FAST,
      ...opts,
    },
    { logger: silentLogger() },
  );
  clients.add(c);
  return c;
}

function dealer(port: number): Dealer {
  const d = new Dealer({
    ...clientOptions(clientKeys, serverKeys.publicKey),
    linger: 0,
    receiveTimeout: 400,
  });
  d.connect(`tcp://127.0.0.1:${port}`);
  return d;
}

const str = (frames: Buffer[]) => frames.map((f) => f.toString());
const b = (s: string) => Buffer.from(s);

before(async () => {
  await zap.start();
  zap.setPolicy(DOMAIN, { allow: 'any' });
});

after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop();
  await zap.stop();
});

describe('RequestServer + RequestClient', () => {
  it('round trip over CURVE', async () => {
    const port = await freePort();
    const s = await server(port);
    const c = client(port);
    assert.deepEqual(str(await c.request([b('ping'), b('two')], { timeoutMs: 2_000 })), [
      're',
      'ping',
      'two',
    ]);
    const bin = Buffer.from([0, 1, 2, 255]);
    const [, echoed] = await c.request([bin], { timeoutMs: 2_000 });
    assert.deepEqual(echoed, bin);
    assert.equal(s.counters.received, 2);
    assert.equal(s.counters.replied, 2);
    assert.equal(c.counters.replies, 2);
  });

  it('a slow handler for one client does not delay another client', async () => {
    const port = await freePort();
    await server(port);
    const slow = client(port);
    const fast = client(port);
    await Promise.all([slow.request([b('warm')]), fast.request([b('warm')])]); // connections up
    const done: string[] = [];
    const t0 = performance.now();
    const pSlow = slow.request([b('slow:500')], { timeoutMs: 5_000 }).then(() => done.push('slow'));
    await sleep(20); // the slow request is surely running
    const pFast = fast.request([b('fast')], { timeoutMs: 5_000 }).then(() => {
      done.push('fast');
      return performance.now() - t0;
    });
    const fastMs = await pFast;
    await pSlow;
    const slowMs = performance.now() - t0;
    assert.deepEqual(done, ['fast', 'slow']);
    assert.ok(fastMs < slowMs, `fast ${fastMs.toFixed(1)} ms before slow ${slowMs.toFixed(1)} ms`);
  });

  it('one routing id: requests run one at a time, in order (a pipelining DEALER)', async () => {
    const port = await freePort();
    let running = 0;
    let maxRunning = 0;
    await server(port, {}, async (req) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(Number(req.frames[1]!.toString()));
      running--;
      return req.frames;
    });
    const d = dealer(port);
    d.receiveTimeout = 3_000;
    await d.send(['', 'a', '150']);
    await d.send(['', 'b', '0']);
    const r1 = await d.receive();
    const r2 = await d.receive();
    d.close();
    assert.deepEqual(str(r1), ['', 'a', '150']);
    assert.deepEqual(str(r2), ['', 'b', '0']);
    assert.equal(maxRunning, 1);
  });

  it('urgent requests go ahead of queued ordinary ones, and a few beyond a full queue', async () => {
    const port = await freePort();
    const order: string[] = [];
    await server(port, {}, async (req) => {
      order.push(req.frames[0]!.toString());
      await sleep(30);
      return [b('ok')];
    });
    const c = client(port, { maxQueued: 4 });
    const ask = (name: string, urgent = false) =>
      c.request([b(name)], { timeoutMs: 5_000, urgent }).then(
        () => 'ok',
        (e: { code?: string }) => e.code ?? 'error',
      );
    const results = [ask('t0'), ask('t1'), ask('t2'), ask('t3'), ask('t4')]; // t0 in flight, 4 queued
    const refused = await ask('t5'); // an ordinary one beyond maxQueued
    results.push(ask('u1', true), ask('u2', true));
    assert.equal(refused, 'transport-busy');
    assert.deepEqual(await Promise.all(results), Array(7).fill('ok'), 'the urgent ones were not refused');
    assert.deepEqual(order, ['t0', 'u1', 'u2', 't1', 't2', 't3', 't4'], 'urgent first, in their order');
  });

  it('global cap: at most maxInFlight handlers run; the rest wait (back-pressure), none is lost', async () => {
    const port = await freePort();
    let running = 0;
    let maxRunning = 0;
    const s = await server(port, { maxInFlight: 2 }, async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(150);
      running--;
      return [b('ok')];
    });
    const cs = [client(port), client(port), client(port), client(port)];
    const replies = await Promise.all(cs.map((c) => c.request([b('x')], { timeoutMs: 5_000 })));
    assert.equal(replies.length, 4);
    assert.equal(maxRunning, 2);
    assert.equal(s.counters.pending, 0);
  });

  it('drops malformed envelopes (no delimiter, no body, too many frames) and keeps serving', async () => {
    const port = await freePort();
    const cap = captureLogger('warn');
    const s = await server(port, { maxFrames: 4 }, handler, cap.logger);
    const d = dealer(port);
    await d.send(['no-delimiter', 'x']);
    await assert.rejects(d.receive(), { code: 'EAGAIN' });
    await d.send(['']); // delimiter, no body
    await assert.rejects(d.receive(), { code: 'EAGAIN' });
    await d.send(['', '1', '2', '3', '4', '5']);
    await assert.rejects(d.receive(), { code: 'EAGAIN' });
    await d.send(['', 'fine']);
    assert.deepEqual(str(await d.receive()), ['', 're', 'fine']);
    d.close();
    assert.equal(s.counters.dropped, 3);
    const reasons = cap.lines.filter((l) => l.msg === 'request dropped').map((l) => l.reason);
    assert.deepEqual(reasons, ['no empty delimiter', 'no body frames', 'more than 4 frames']);
  });

  it('echoes a longer envelope (a REQ with correlate, or a proxy hop)', async () => {
    const port = await freePort();
    await server(port);
    const d = dealer(port);
    await d.send([Buffer.from([0, 0, 0, 7]), '', 'hi']);
    assert.deepEqual(await d.receive(), [Buffer.from([0, 0, 0, 7]), b(''), b('re'), b('hi')]);
    d.close();
  });

  it('a throwing handler gets an error reply; internals of non-Cairn errors do not leak', async () => {
    const port = await freePort();
    const cap = captureLogger('warn');
    const s = await server(port, {}, handler, cap.logger);
    const c = client(port);
    assert.deepEqual(str(await c.request([b('throw')])), ['error', 'internal', 'internal error']);
    assert.deepEqual(str(await c.request([b('usage')])), ['error', 'usage', 'you asked for it']);
    assert.deepEqual(str(await c.request([b('empty')])), ['']);
    assert.deepEqual(str(await c.request([b('still alive')])), ['re', 'still alive']);
    assert.equal(s.counters.errors, 2);
    const failed = cap.lines.filter((l) => l.msg === 'request handler failed');
    assert.equal(failed.length, 2);
    assert.match(JSON.stringify(failed[0]), /secret internals/); // ...but it is in our own log
  });

  it('timeout: a typed error, and the client works afterwards (Lazy Pirate)', async () => {
    const port = await freePort();
    await server(port);
    const c = client(port);
    const events: string[] = [];
    c.on('timeout', () => events.push('timeout'));
    c.on('reconnect', (i) => events.push(`reconnect:${i.cause}`));
    await assert.rejects(c.request([b('slow:600')], { timeoutMs: 150 }), (e: Error & { code?: string }) => {
      assert.equal(e.name, 'TransportError');
      assert.equal(e.code, 'transport-timeout');
      return true;
    });
    assert.deepEqual(str(await c.request([b('next')], { timeoutMs: 2_000 })), ['re', 'next']);
    assert.deepEqual(events, ['timeout', 'reconnect:timeout']);
    assert.equal(c.counters.timeouts, 1);
  });

  it('a request made right after the event loop was blocked longer than its timeout still gets its reply', async () => {
    const port = await freePort();
    await server(port);
    const c = client(port);
    assert.deepEqual(str(await c.request([b('warm')], { timeoutMs: 2_000 })), ['re', 'warm']);
    // a synchronous stretch longer than the request's timeout (a long block connect, say):
    // libuv's cached loop time is now that much behind the wall clock
    const end = Date.now() + 700;
    while (Date.now() < end) {}
    assert.deepEqual(str(await c.request([b('after')], { timeoutMs: 400 })), ['re', 'after']);
    assert.equal(c.counters.timeouts, 0, 'no spurious timeout, no socket rebuilt');
  });

  it('requests are serialised; later calls queue', async () => {
    const port = await freePort();
    await server(port);
    const c = client(port);
    const order: string[] = [];
    await Promise.all([
      c.request([b('slow:100')]).then(() => order.push('first')),
      c.request([b('fast')]).then(() => order.push('second')),
      c.request([b('fast')]).then(() => order.push('third')),
    ]);
    assert.deepEqual(order, ['first', 'second', 'third']);
  });

  it('server restart: the client reconnects and the next request succeeds', async () => {
    const port = await freePort();
    let s = await server(port);
    const c = client(port);
    const events: string[] = [];
    c.on('disconnect', () => events.push('disconnect'));
    c.on('reconnect', (i) => events.push(`reconnect:${i.cause}`));
    assert.deepEqual(str(await c.request([b('before')])), ['re', 'before']);
    await stopServer(s);
    s = await server(port); // at once: start() retries while libzmq releases the old listener
    await until(() => events.includes('reconnect:transport'), 3_000, 'reconnect event');
    assert.deepEqual(events, ['disconnect', 'reconnect:transport']);
    assert.deepEqual(str(await c.request([b('after')], { timeoutMs: 3_000 })), ['re', 'after']);
    // down while a request is outstanding: timeout, then back up: next request succeeds
    await stopServer(s);
    await assert.rejects(c.request([b('lost')], { timeoutMs: 300 }), { code: 'transport-timeout' });
    s = await server(port);
    assert.deepEqual(str(await c.request([b('again')], { timeoutMs: 3_000 })), ['re', 'again']);
  });

  it('stop() lets a running handler answer before closing', async () => {
    const port = await freePort();
    const s = await server(port);
    const c = client(port);
    await c.request([b('warm')]);
    const p = c.request([b('slow:200')], { timeoutMs: 3_000 });
    await sleep(50);
    await stopServer(s);
    assert.deepEqual(str(await p), ['re', 'slow:200']);
  });

  it('max message size: an oversized request is dropped with its connection; the client times out, then recovers', async () => {
    const port = await freePort();
    const s = await server(port, { maxMessageSize: 1024 });
    const c = client(port);
    // the limit is on plaintext frames (CURVE's 33 bytes of framing are added internally)
    assert.equal((await c.request([Buffer.alloc(1024, 1)]))[1]!.length, 1024);
    await assert.rejects(c.request([Buffer.alloc(1025, 1)], { timeoutMs: 400 }), {
      code: 'transport-timeout',
    });
    assert.deepEqual(str(await c.request([b('small')], { timeoutMs: 2_000 })), ['re', 'small']);
    assert.equal(s.counters.received, 2); // the oversized one never reached the application
  });

  it('close(): outstanding and queued requests reject transport-closed; later calls too', async () => {
    const port = await freePort();
    await server(port);
    const c = client(port);
    const p1 = c.request([b('slow:300')], { timeoutMs: 5_000 });
    const p2 = c.request([b('fast')], { timeoutMs: 5_000 });
    await sleep(50);
    c.close();
    await assert.rejects(p1, { code: 'transport-closed' });
    await assert.rejects(p2, { code: 'transport-closed' });
    await assert.rejects(c.request([b('x')]), { code: 'transport-closed' });
  });

  it('bounded client queue: transport-busy beyond maxQueued', async () => {
    const port = await freePort();
    await server(port);
    const c = client(port, { maxQueued: 1 });
    const p1 = c.request([b('slow:100')]);
    const p2 = c.request([b('fast')]);
    await assert.rejects(c.request([b('fast')]), { code: 'transport-busy' });
    await Promise.all([p1, p2]);
  });

  it('a server with nothing listening: timeout, no crash', async () => {
    const port = await freePort();
    const c = client(port);
    await assert.rejects(c.request([b('x')], { timeoutMs: 200 }), { code: 'transport-timeout' });
  });

  it('binds IPv4 and IPv6 at once', async (t) => {
    if (!(await hasIpv6Loopback())) {
      t.skip('no IPv6 loopback on this host');
      return;
    }
    const [port] = await freePorts(1);
    await server(port!, { endpoints: [`tcp://127.0.0.1:${port}`, `tcp://[::1]:${port}`] });
    const v4 = client(port!);
    const v6 = client(`tcp://[::1]:${port}`);
    assert.deepEqual(str(await v4.request([b('v4')], { timeoutMs: 2_000 })), ['re', 'v4']);
    assert.deepEqual(str(await v6.request([b('v6')], { timeoutMs: 2_000 })), ['re', 'v6']);
  });

  it('refuses bad configuration with typed errors', async () => {
    assert.throws(
      () =>
        new RequestServer({ endpoints: [], keys: serverKeys, zapDomain: DOMAIN }, { logger: silentLogger() }),
      { code: 'transport-config' },
    );
    assert.throws(
      () =>
        new RequestClient(
          { endpoint: 'tcp://127.0.0.1:1', keys: clientKeys, serverKey: 'nope' },
          { logger: silentLogger() },
        ),
      { code: 'transport-config' },
    );
    const port = await freePort();
    await server(port);
    const clash = new RequestServer(
      { endpoints: [`tcp://127.0.0.1:${port}`], keys: serverKeys, zapDomain: DOMAIN, bindRetryMs: 0 },
      { logger: silentLogger() },
    );
    await assert.rejects(clash.start(handler), { code: 'transport-bind' });
  });
});
