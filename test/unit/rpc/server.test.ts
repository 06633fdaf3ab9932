/**
 * The HTTP side of the RPC server: routes, cookie and rpcauth authentication, body cap, rate
 * limit, keep-alive, stop.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateRpcAuth, parseBasicAuth, parseRpcAuth } from '../../../services/node/rpc/auth.ts';
import { handleJsonRpc } from '../../../services/node/rpc/jsonrpc.ts';
import { MethodRegistry } from '../../../services/node/rpc/method.ts';
import { parseListenAddress, RpcServer } from '../../../services/node/rpc/server.ts';
import { silentLogger } from '../../../shared/log.ts';
import { tempDir } from '../../helpers/node.ts';
import { http, serverPerTest, startServer, testRegistry } from './helpers.ts';

const { started, cleanups } = serverPerTest();

const ECHO = '{"jsonrpc":"2.0","method":"echo","params":["hi"],"id":1}';

/** An rpcauth entry made exactly as Bitcoin Core's share/rpcauth/rpcauth.py does. */
function rpcauthPy(user: string, password: string): string {
  const salt = randomBytes(16).toString('hex');
  const hmac = createHmac('sha256', Buffer.from(salt, 'utf8'))
    .update(Buffer.from(password, 'utf8'))
    .digest('hex');
  return `${user}:${salt}$${hmac}`;
}

describe('rpc server: routes', () => {
  it('GET /health is 200 ok without credentials', async () => {
    const s = await started();
    const r = await http(`${s.url}health`, { method: 'GET' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok\n');
  });

  it('other verbs on / are 405, unknown paths 404; any content type is accepted (as Core)', async () => {
    const s = await started();
    const get = await http(s.url, { method: 'GET', auth: s.cookie });
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    assert.equal((await http(`${s.url}rest/chaininfo.json`, { method: 'GET' })).status, 404);
    assert.equal((await http(`${s.url}wallet/x`, { body: ECHO, auth: s.cookie })).status, 404);
    const xml = await http(s.url, {
      body: ECHO,
      auth: s.cookie,
      headers: { 'content-type': 'application/xml' },
    });
    assert.equal(xml.status, 200);
  });

  it('accepts text/plain as bitcoin-cli and curl examples send', async () => {
    const s = await started();
    const r = await http(s.url, { body: ECHO, auth: s.cookie, headers: { 'content-type': 'text/plain;' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), { jsonrpc: '2.0', result: 'hi', id: 1 });
  });

  it('parses listen addresses, IPv6 bracketed', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:2131'), { host: '127.0.0.1', port: 2131 });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.equal(parseListenAddress('::1:2131'), undefined);
    assert.equal(parseListenAddress('127.0.0.1'), undefined);
    assert.equal(parseListenAddress('[nope]:1'), undefined);
    assert.throws(
      () => new RpcServer({ listen: ['localhost'] }, { registry: testRegistry(), logger: silentLogger() }),
      /not host:port/,
    );
  });
});

describe('rpc server: authentication', () => {
  it('refuses missing credentials with 401 and a Basic challenge', async () => {
    const s = await started();
    const r = await http(s.url, { body: ECHO });
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /^Basic realm=/);
  });

  it('refuses a wrong cookie after a delay, and counts the failure', async () => {
    const s = await started({ authFailDelayMs: 200 });
    const t0 = performance.now();
    const r = await http(s.url, { body: ECHO, auth: `__cookie__:${'0'.repeat(64)}` });
    assert.equal(r.status, 401);
    assert.ok(performance.now() - t0 >= 190, 'the 401 is delayed');
    assert.equal(s.server.authFailures('127.0.0.1'), 1);
    await http(s.url, { body: ECHO, auth: 'garbage' });
    assert.equal(s.server.authFailures('127.0.0.1'), 2);
  });

  it('accepts the right cookie', async () => {
    const s = await started();
    assert.match(s.cookie, /^__cookie__:[0-9a-f]{64}$/);
    const r = await http(s.url, { body: ECHO, auth: s.cookie });
    assert.equal(r.status, 200);
    assert.equal(s.server.authFailures('127.0.0.1'), 0);
  });

  it('accepts an rpcauth user (entry made as rpcauth.py does) and refuses a wrong password', async () => {
    const s = await started({
      rpcauth: [rpcauthPy('alice', 'p:ss wörd'), generateRpcAuth('bob', 'hunter2').entry],
    });
    const ok = await http(s.url, {
      body: '{"jsonrpc":"2.0","method":"whoami","id":1}',
      auth: 'alice:p:ss wörd',
    });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).result.user, 'alice');
    assert.equal((await http(s.url, { body: ECHO, auth: 'bob:hunter2' })).status, 200);
    assert.equal((await http(s.url, { body: ECHO, auth: 'alice:hunter2' })).status, 401);
    assert.equal((await http(s.url, { body: ECHO, auth: 'carol:hunter2' })).status, 401);
  });

  it('refuses a malformed rpcauth entry at construction', () => {
    assert.throws(
      () =>
        new RpcServer(
          { listen: ['127.0.0.1:0'], rpcauth: ['alice:nohmac'] },
          { registry: testRegistry(), logger: silentLogger() },
        ),
      /rpcauth entry/,
    );
    assert.equal(parseRpcAuth(generateRpcAuth('u').entry).user, 'u');
  });

  it('parses Basic credentials (password may hold colons)', () => {
    const h = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.deepEqual(parseBasicAuth(h('u:a:b')), { user: 'u', password: 'a:b' });
    assert.equal(parseBasicAuth(h('nocolon')), undefined);
    assert.equal(parseBasicAuth('Bearer abc'), undefined);
    assert.equal(parseBasicAuth(undefined), undefined);
  });

  it('writes the cookie 0600 and removes it on stop', async () => {
    const s = await startServer();
    const path = s.server.cookiePath!;
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await s.server.stop();
    assert.equal(existsSync(path), false);
    await s.close();
  });

  it('works without a cookie (data dir undefined): rpcauth only', async () => {
    const { entry, password } = generateRpcAuth('ops');
    const s = await started({ dataDir: undefined, rpcauth: [entry] });
    assert.equal(s.server.cookiePath, undefined);
    assert.equal((await http(s.url, { body: ECHO, auth: `ops:${password}` })).status, 200);
    assert.equal((await http(s.url, { body: ECHO, auth: '__cookie__:x' })).status, 401);
  });
});

describe('rpc server: limits', () => {
  it('answers a body over the cap with 413', async () => {
    const s = await started({ maxBodyBytes: 1000 });
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'echo', params: ['x'.repeat(2000)], id: 1 });
    const r = await http(s.url, { body, auth: s.cookie });
    assert.equal(r.status, 413);
    const ok = await http(s.url, { body: ECHO, auth: s.cookie });
    assert.equal(ok.status, 200);
  });

  it('answers a chunked body over the cap with 413', async () => {
    const s = await started({ maxBodyBytes: 1000 });
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        s.url,
        {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(s.cookie).toString('base64')}`,
            'content-type': 'application/json',
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('x'.repeat(800));
      req.write('x'.repeat(800));
      req.end();
    });
    assert.equal(status, 413);
  });

  it('rate-limits per IP with 429 and a JSON-RPC error body', async () => {
    const s = await started({ rateLimit: { perSecond: 1, burst: 5 } });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await http(s.url, { body: ECHO, auth: s.cookie })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    const r = await http(s.url, { body: ECHO, auth: s.cookie });
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(JSON.parse(r.body).error.code, -32000);
  });
});

describe('rpc server: connections', () => {
  it('serves many requests over one keep-alive connection', async () => {
    const s = await started();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const ports = new Set<number>();
    agent.on('free', (socket) => ports.add(socket.localPort ?? -1));
    for (let i = 0; i < 50; i++) {
      const r = await http(s.url, {
        body: `{"jsonrpc":"2.0","method":"echo","params":[${i}],"id":${i}}`,
        auth: s.cookie,
        agent,
      });
      assert.equal(JSON.parse(r.body).result, i);
    }
    assert.equal(ports.size, 1, 'one socket for all requests');
  });

  it('stop() closes idle keep-alive connections instead of waiting for them', {
    timeout: 20_000,
  }, async () => {
    // a keep-alive timeout far beyond the test's: only stop() itself can close the socket in time
    const s = await startServer({ keepAliveTimeoutMs: 600_000 });
    const agent = new Agent({ keepAlive: true });
    let socket: Socket | undefined;
    agent.on('free', (so) => {
      socket = so;
    });
    await http(s.url, { body: ECHO, auth: s.cookie, agent });
    assert.ok(socket !== undefined && !socket.destroyed, 'an idle keep-alive socket');
    socket.ref(); // the agent unrefs idle sockets; this one must keep the test alive until it closes
    const closed = new Promise<void>((r) => socket!.once('close', () => r()));
    await s.close();
    await closed;
    agent.destroy();
  });

  it('drops a client that never finishes its request, and serves others meanwhile', {
    timeout: 20_000,
  }, async () => {
    const s = await started({ requestTimeoutMs: 500 });
    const { hostname, port } = new URL(s.url);
    const slow = connect(Number(port), hostname);
    await new Promise<void>((r) => slow.once('connect', () => r()));
    let answer = '';
    slow.on('data', (d: Buffer) => {
      answer += d.toString();
    });
    slow.on('error', () => undefined);
    const dropped = new Promise<void>((r) => slow.once('close', () => r()));
    // headers begun and never ended (slow loris)
    slow.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n');
    const r = await http(s.url, { body: ECHO, auth: s.cookie });
    assert.equal(JSON.parse(r.body).result, 'hi', 'others are served while it hangs');
    await dropped;
    assert.ok(answer === '' || /^HTTP\/1\.1 408/.test(answer), `answered: ${answer.slice(0, 40)}`);
  });

  it('listens on every address given', async () => {
    const s = await started({ listen: ['127.0.0.1:0', '127.0.0.1:0'] });
    const addrs = s.server.addresses();
    assert.equal(addrs.length, 2);
    for (const a of addrs) assert.equal((await http(`http://${a}/health`, { method: 'GET' })).status, 200);
  });
});

describe('rpc server: start failure', () => {
  it('a taken port fails start() and leaves no cookie or listener behind', async () => {
    const a = await started();
    const dir = tempDir('cairn-rpc-');
    cleanups.push(() => dir.remove());
    const b = new RpcServer(
      { listen: ['127.0.0.1:0', a.server.addresses()[0]!], dataDir: dir.path },
      { registry: testRegistry(), logger: silentLogger() },
    );
    await assert.rejects(b.start(), /EADDRINUSE/);
    assert.equal(existsSync(join(dir.path, '.cookie')), false);
    assert.deepEqual(b.addresses(), []);
  });
});

describe('handleJsonRpc without HTTP', () => {
  it('turns a result holding raw bytes into -32603 (methods must render hex)', async () => {
    const r = new MethodRegistry();
    r.add({ name: 'raw', help: '', params: [], run: () => ({ b: new Uint8Array([1]) }) });
    const out = await handleJsonRpc('{"jsonrpc":"2.0","method":"raw","id":7}', r, { user: 'u', ip: 'x' });
    assert.deepEqual(JSON.parse(out!), {
      jsonrpc: '2.0',
      error: { code: -32603, message: 'internal error' },
      id: 7,
    });
  });

  it('refuses a batch over maxBatch as one -32600', async () => {
    const body = JSON.stringify(
      [1, 2, 3].map((i) => ({ jsonrpc: '2.0', method: 'echo', params: [i], id: i })),
    );
    const out = await handleJsonRpc(body, testRegistry(), { user: 'u', ip: 'x' }, { maxBatch: 2 });
    assert.equal(JSON.parse(out!).error.code, -32600);
  });
});
