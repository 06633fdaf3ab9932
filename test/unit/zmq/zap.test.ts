/**
 * The ZAP handler with real sockets: allow-lists, missing policies, mechanisms, reloads, counters,
 * rate-limited refusal logs. One handler per process: this file starts it once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Request, Router } from 'zeromq';
import { z85Decode } from '../../../shared/identity/z85.ts';
import { silentLogger } from '../../../shared/log.ts';
import { RequestClient } from '../../../shared/zmq/client.ts';
import { LogLimiter } from '../../../shared/zmq/log-limit.ts';
import { RequestServer } from '../../../shared/zmq/server.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { captureLogger, FAST, keys, until } from './helpers.ts';
import { freePorts } from './ports.ts';

const log = captureLogger('warn');
const zap = new ZapHandler({ logger: log.logger });
const serverKeys = keys();
const allowed = keys();
const unlisted = keys();
const servers: RequestServer[] = [];
const clients: RequestClient[] = [];

async function echoServer(zapDomain: string, port: number): Promise<RequestServer> {
  const s = new RequestServer(
    { endpoints: [`tcp://127.0.0.1:${port}`], keys: serverKeys, zapDomain, ...FAST },
    { logger: silentLogger() },
  );
  await s.start(async (req) => [Buffer.from('echo'), ...req.frames]);
  servers.push(s);
  return s;
}

function client(port: number, k = allowed): RequestClient {
  const c = new RequestClient(
    { endpoint: `tcp://127.0.0.1:${port}`, keys: k, serverKey: serverKeys.publicKey, ...FAST },
    { logger: silentLogger() },
  );
  clients.push(c);
  return c;
}

async function talks(c: RequestClient, timeoutMs = 700): Promise<boolean> {
  try {
    const r = await c.request([Buffer.from('hi')], { timeoutMs });
    assert.deepEqual(r.map(String), ['echo', 'hi']);
    return true;
  } catch (e) {
    assert.equal((e as { code?: string }).code, 'transport-timeout');
    return false;
  }
}

before(async () => {
  await zap.start();
});

after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop();
  await zap.stop();
});

describe('ZapHandler decisions (no sockets)', () => {
  const h = new ZapHandler({ logger: silentLogger() });
  const raw = Buffer.from(z85Decode(allowed.publicKey));
  h.setPolicy('open', { allow: 'any' });
  h.setPolicy('closed', { allow: new Set([allowed.publicKey]) });

  it('accepts CURVE per policy with the Z85 key as user id', () => {
    assert.deepEqual(
      h.decide({ domain: 'open', address: '1.2.3.4', mechanism: 'CURVE', credentials: [raw] }),
      {
        status: '200',
        text: 'OK',
        userId: allowed.publicKey,
      },
    );
    assert.equal(
      h.decide({ domain: 'closed', address: 'a', mechanism: 'CURVE', credentials: [raw] }).status,
      '200',
    );
    const other = Buffer.from(z85Decode(unlisted.publicKey));
    assert.equal(
      h.decide({ domain: 'closed', address: 'a', mechanism: 'CURVE', credentials: [other] }).status,
      '400',
    );
  });

  it('refuses unknown domains, NULL and PLAIN, and malformed credentials', () => {
    assert.equal(
      h.decide({ domain: 'nope', address: 'a', mechanism: 'CURVE', credentials: [raw] }).status,
      '400',
    );
    assert.equal(
      h.decide({ domain: 'open', address: 'a', mechanism: 'NULL', credentials: [] }).status,
      '400',
    );
    const plain = [Buffer.from('user'), Buffer.from('pass')];
    assert.equal(
      h.decide({ domain: 'open', address: 'a', mechanism: 'PLAIN', credentials: plain }).status,
      '400',
    );
    const short = raw.subarray(0, 31);
    assert.equal(
      h.decide({ domain: 'open', address: 'a', mechanism: 'CURVE', credentials: [short] }).status,
      '400',
    );
  });

  it('validates allow-list keys and copies the set', () => {
    assert.throws(() => h.setPolicy('x', { allow: new Set(['nope']) }), { code: 'transport-config' });
    const set = new Set<string>();
    h.setPolicy('copy', { allow: set });
    set.add(allowed.publicKey); // mutating the caller's set does not change the policy
    assert.equal(
      h.decide({ domain: 'copy', address: 'a', mechanism: 'CURVE', credentials: [raw] }).status,
      '400',
    );
  });

  it('a second handler cannot start while one runs', async () => {
    await assert.rejects(h.start(), { code: 'transport-config' });
    assert.equal(ZapHandler.active(), zap);
  });
});

describe('LogLimiter', () => {
  it('logs once per key per interval, bounded memory', () => {
    let now = 0;
    const l = new LogLimiter({ intervalMs: 60_000, maxKeys: 3, now: () => now });
    assert.equal(l.allow('a'), true);
    assert.equal(l.allow('a'), false);
    assert.equal(l.allow('b'), true);
    now = 59_999;
    assert.equal(l.allow('a'), false);
    now = 60_000;
    assert.equal(l.allow('a'), true);
    assert.equal(l.takeSuppressed(), 2);
    for (const k of ['c', 'd', 'e', 'f']) assert.equal(l.allow(k), true);
    assert.equal(l.allow('f'), false);
  });
});

describe('ZapHandler with real sockets', () => {
  it('an allow-listed key talks; an unlisted key is refused', async () => {
    const [port] = await freePorts(1);
    zap.setPolicy('listed', { allow: new Set([allowed.publicKey]) });
    await echoServer('listed', port!);
    const before = zap.counters;
    assert.equal(await talks(client(port!, allowed)), true);
    const bad = client(port!, unlisted);
    let refusedEvents = 0;
    bad.on('refused', () => refusedEvents++);
    assert.equal(await talks(bad), false);
    assert.ok(refusedEvents >= 1, 'the client saw the ZAP refusal (handshake:error:auth)');
    const after = zap.counters;
    assert.ok(after.accepted > before.accepted);
    assert.ok(after.refused > before.refused);
  });

  it('a socket whose ZAP domain has no policy refuses every key', async () => {
    const [port] = await freePorts(1);
    await echoServer('forgotten', port!);
    assert.equal(await talks(client(port!, allowed)), false);
    assert.equal(await talks(client(port!, unlisted)), false);
  });

  it('an allow-list reloads at run time: new handshakes follow the new list', async () => {
    const [port] = await freePorts(1);
    const k = keys();
    zap.setPolicy('reload', { allow: new Set([allowed.publicKey]) });
    await echoServer('reload', port!);
    const c = client(port!, k);
    assert.equal(await talks(c), false);
    zap.setPolicy('reload', { allow: new Set([allowed.publicKey, k.publicKey]) });
    // the refused connection is retried by libzmq (and rebuilt after the timeout): it gets in now
    assert.equal(await talks(c, 3_000), true);
    zap.setPolicy('reload', { allow: 'any' });
    assert.equal(await talks(client(port!, keys())), true);
  });

  it('refuses the NULL mechanism on a socket with a ZAP domain', async () => {
    const [port] = await freePorts(1);
    zap.setPolicy('nullsock', { allow: 'any' });
    const router = new Router({ zapDomain: 'nullsock', linger: 0 });
    await router.bind(`tcp://127.0.0.1:${port}`);
    const req = new Request({ linger: 0, receiveTimeout: 500 });
    req.connect(`tcp://127.0.0.1:${port}`);
    const served = (async () => {
      try {
        const m = await router.receive();
        await router.send([m[0]!, '', 'pong']);
        return true;
      } catch {
        return false;
      }
    })();
    await req.send('ping');
    await assert.rejects(req.receive(), { code: 'EAGAIN' });
    req.close();
    router.close();
    assert.equal(await served, false);
  });

  it('logs a refusal once per (address, key) per minute', async () => {
    const [port] = await freePorts(1);
    zap.setPolicy('quiet', { allow: new Set([allowed.publicKey]) });
    await echoServer('quiet', port!);
    const k = keys();
    const c = client(port!, k);
    const refusedBefore = zap.counters.refused;
    // libzmq does not retry a handshake the server refused; each Lazy Pirate rebuild (after a
    // timeout) makes a new one, so every request below costs one refusal.
    for (let i = 0; i < 4; i++) assert.equal(await talks(c, 250), false);
    await until(() => zap.counters.refused - refusedBefore >= 4, 3_000, 'several refusals');
    const lines = log.lines.filter((l) => l.msg === 'ZAP: connection refused' && l.key === k.publicKey);
    assert.equal(lines.length, 1, `${zap.counters.refused - refusedBefore} refusals, 1 line`);
    assert.equal(lines[0]!.domain, 'quiet');
    assert.equal(lines[0]!.address, '127.0.0.1');
  });
});
