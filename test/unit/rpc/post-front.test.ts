/**
 * The RPC port's POST front (services/node/rpc/post-front.ts): JSON-RPC calls read without
 * node:http, everything else handed to node:http with the bytes already read; framing over split
 * and pipelined writes, limits, timeouts, and the answers equal to node:http's own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseHead } from '../../../services/node/rpc/post-front.ts';
import { type Running, serverPerTest, startServer } from './helpers.ts';

const { started, cleanups } = serverPerTest();

/** A raw HTTP/1.1 client: writes bytes as given, reads responses framed by Content-Length. */
class RawClient {
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  static open(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const s = connect(Number(port), hostname, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The next response: status, lower-cased headers, body; undefined when the server closed first. */
  async response(): Promise<{ status: number; headers: Map<string, string>; body: string } | undefined> {
    for (;;) {
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const lines = this.#buf.toString('latin1', 0, end).split('\r\n');
        const headers = new Map<string, string>();
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
        }
        const length = Number(headers.get('content-length') ?? 0);
        if (this.#buf.length >= end + 4 + length) {
          const body = this.#buf.toString('utf8', end + 4, end + 4 + length);
          this.#buf = this.#buf.subarray(end + 4 + length);
          return { status: Number(lines[0]!.split(' ')[1]), headers, body };
        }
      }
      if (this.closed) return undefined;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  untilClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => this.socket.once('close', () => r()));
  }

  close(): void {
    this.socket.destroy();
  }
}

function call(s: Running, body: string, extra = ''): string {
  const auth = Buffer.from(s.cookie).toString('base64');
  return (
    'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
    `Authorization: Basic ${auth}\r\nContent-Type: application/json\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
const echo = (v: unknown, id = 1) => JSON.stringify({ jsonrpc: '2.0', method: 'echo', params: [v], id });

async function client(s: Running): Promise<RawClient> {
  const c = await RawClient.open(s.url);
  cleanups.push(() => c.close());
  return c;
}

describe('rpc POST front', () => {
  it('reads calls split at every byte and pipelined in one write, answering each in order', async () => {
    const s = await started();
    const c = await client(s);
    const one = call(s, echo('é€', 7));
    for (const ch of Buffer.from(one)) c.write(Buffer.from([ch]));
    const r = await c.response();
    assert.equal(r?.status, 200);
    assert.deepEqual(JSON.parse(r!.body), { jsonrpc: '2.0', result: 'é€', id: 7 });
    assert.equal(r!.headers.get('connection'), 'keep-alive');
    assert.equal(r!.headers.get('content-type'), 'application/json');
    assert.equal(r!.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(r!.headers.has('date'));
    c.write(call(s, echo(1, 1)) + call(s, echo(2, 2)) + call(s, echo(3, 3)));
    for (const id of [1, 2, 3]) assert.equal(JSON.parse((await c.response())!.body).result, id);
    assert.deepEqual(s.server.frontCounts(), { served: 4, handedOver: 0, pauses: 0 });
  });

  it('hands a connection to node:http at the first request it is not for, with the bytes read', async () => {
    const s = await started();
    const c = await client(s);
    // a call, then (pipelined in the same write) a GET and a chunked call only node:http reads
    const body = echo('chunked', 5);
    const chunked =
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n' +
      `Authorization: Basic ${Buffer.from(s.cookie).toString('base64')}\r\n\r\n` +
      `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    c.write(`${call(s, echo('first', 1))}GET /health HTTP/1.1\r\nHost: x\r\n\r\n${chunked}`);
    assert.equal(JSON.parse((await c.response())!.body).result, 'first');
    const health = await c.response();
    assert.equal(health?.status, 200);
    assert.equal(health?.body, 'ok\n');
    assert.equal(JSON.parse((await c.response())!.body).result, 'chunked');
    // node:http keeps the connection: a later plain call is answered too
    c.write(call(s, echo('after', 9)));
    assert.equal(JSON.parse((await c.response())!.body).result, 'after');
    assert.deepEqual(s.server.frontCounts(), { served: 1, handedOver: 1, pauses: 0 });
  });

  it('answers Expect: 100-continue, HTTP/1.0 and a malformed head as node:http does', async () => {
    const s = await started();
    const a = await client(s);
    a.write(call(s, echo('expect', 1), 'Expect: 100-continue\r\n'));
    // node:http answers 100 Continue first (no Content-Length: a head alone), then the call
    const first = await a.response();
    assert.equal(first?.status, 100);
    assert.equal(JSON.parse((await a.response())!.body).result, 'expect');

    const b = await client(s);
    b.write(call(s, echo('old', 1)).replace('HTTP/1.1', 'HTTP/1.0'));
    const old = await b.response();
    assert.equal(JSON.parse(old!.body).result, 'old');
    await b.untilClosed();

    const c = await client(s);
    c.write(call(s, echo(1)).replace('Content-Length', 'Content-Length: 5\r\nContent-Length'));
    assert.equal((await c.response())?.status, 400, 'two Content-Lengths: node:http refuses');
    assert.equal(s.server.frontCounts().handedOver, 3);
  });

  it('stops reading a client that pipelines far ahead of its answers, and answers all in order', async () => {
    // the first call waits the auth failure delay; the others (over 16 KiB + the body cap) queue
    const s = await started({ maxBodyBytes: 200, authFailDelayMs: 200 });
    const c = await client(s);
    const calls = Array.from({ length: 150 }, (_, i) => call(s, echo(i, i)));
    const bad = call(s, echo(-1)).replace(/Basic \S+/, 'Basic eDp5');
    c.write(bad + calls.join(''));
    assert.equal((await c.response())?.status, 401);
    for (let i = 0; i < calls.length; i++) assert.equal(JSON.parse((await c.response())!.body).id, i);
    assert.ok(s.server.frontCounts().pauses >= 1, 'the socket was paused');
    assert.equal(s.server.frontCounts().served, 151);
  });

  it('answers as node:http does: the same status, headers and body for each kind of call', async () => {
    const bodies = [
      echo('x'),
      '{"jsonrpc":"2.0","method":"echo","params":[1]}', // a notification only: 204
      '{"method":"nosuch","params":[],"id":3}', // 1.0 error: HTTP 404
      '[{"jsonrpc":"2.0","method":"echo","params":[1],"id":1},{"method":"echo","params":[2],"id":2}]',
      'not json',
    ];
    const answers = async (postFront: boolean) => {
      const s = await started({ postFront, maxBodyBytes: 1000 });
      const c = await client(s);
      const out: unknown[] = [];
      for (const b of bodies) {
        c.write(call(s, b));
        out.push(await c.response());
      }
      c.write(call(s, echo(1)).replace(/Basic \S+/, 'Basic eDp5'));
      out.push(await c.response());
      c.write(call(s, 'x'.repeat(1001)));
      out.push(await c.response());
      assert.equal(s.server.frontCounts().served, postFront ? bodies.length + 1 : 0);
      // the Date header differs by the clock only
      for (const r of out as { headers: Map<string, string> }[]) r?.headers.delete('date');
      return out;
    };
    assert.deepEqual(await answers(true), await answers(false));
  });

  it('drops a client that does not read its answers within the request timeout', {
    timeout: 20_000,
  }, async () => {
    const s = await started({ requestTimeoutMs: 300, maxBodyBytes: 2_000_000 });
    const c = await client(s);
    c.socket.pause(); // reads nothing: the answers fill the socket buffers
    const big = 'x'.repeat(900_000);
    for (let i = 0; i < 12; i++) c.write(call(s, echo(big, i)));
    // long past the timeout, read again: the server closed the connection (a paused socket does
    // not see it until then), after fewer answers than asked for
    await new Promise((r) => setTimeout(r, 1_500));
    c.socket.resume();
    await c.untilClosed();
    assert.ok(s.server.frontCounts().served < 12, `served ${s.server.frontCounts().served}`);
  });

  it('refuses a declared body over the cap with 413 before reading it, and closes', async () => {
    const s = await started({ maxBodyBytes: 100 });
    const c = await client(s);
    c.write(
      `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${Buffer.from(s.cookie).toString('base64')}\r\nContent-Length: 101\r\n\r\n`,
    );
    const r = await c.response();
    assert.equal(r?.status, 413);
    assert.equal(r?.headers.get('connection'), 'close');
    await c.untilClosed();
  });

  it('answers 408 to a head not finished in time and closes an idle keep-alive connection', {
    timeout: 20_000,
  }, async () => {
    const s = await started({ requestTimeoutMs: 300, keepAliveTimeoutMs: 300 });
    const slow = await client(s);
    slow.write('POST / HTTP/1.1\r\nHost: x\r\n');
    const idle = await client(s);
    idle.write(call(s, echo('x')));
    assert.equal((await idle.response())?.status, 200);
    const r = await slow.response();
    assert.equal(r?.status, 408);
    await slow.untilClosed();
    await idle.untilClosed();
    assert.equal(s.server.frontCounts().served, 1);
  });

  it('a wrong password is 401 after the delay, on the same connection, which stays open', async () => {
    const s = await started();
    const c = await client(s);
    c.write(
      call(s, echo(1)).replace(/Basic \S+/, `Basic ${Buffer.from('__cookie__:nope').toString('base64')}`),
    );
    const r = await c.response();
    assert.equal(r?.status, 401);
    assert.equal(r?.headers.get('www-authenticate'), 'Basic realm="jsonrpc"');
    c.write(call(s, echo('ok')));
    assert.equal(JSON.parse((await c.response())!.body).result, 'ok');
  });

  it('stop() lets a call being answered finish, with Connection: close', async () => {
    const s = await startServer({ stopGraceMs: 5_000 });
    const c = await RawClient.open(s.url);
    cleanups.push(() => c.close());
    // a wrong password: the answer waits the auth delay, long enough to stop meanwhile
    const slow = await startServer({ authFailDelayMs: 300, stopGraceMs: 5_000 });
    const d = await RawClient.open(slow.url);
    cleanups.push(() => d.close());
    d.write(call(slow, echo(1)).replace(/Basic \S+/, 'Basic eDp5'));
    await new Promise((r) => setTimeout(r, 50));
    const stopped = slow.close();
    const r = await d.response();
    assert.equal(r?.status, 401);
    assert.equal(r?.headers.get('connection'), 'close');
    await stopped;
    await d.untilClosed();
    c.write(call(s, echo(2)));
    assert.equal(JSON.parse((await c.response())!.body).result, 2);
    await s.close();
    await c.untilClosed();
  });

  it('gives python http.client (an independent HTTP/1.1 client) the same answers over keep-alive', async () => {
    const s = await started();
    const { hostname, port } = new URL(s.url);
    const script = `
import http.client, base64, json, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]))
h = {"Authorization": "Basic " + base64.b64encode(sys.argv[3].encode()).decode(), "Content-Type": "application/json"}
out = []
for i in range(5):
    c.request("POST", "/", json.dumps({"method": "echo", "params": [i], "id": i}), h)
    r = c.getresponse()
    out.append([r.status, json.loads(r.read())["result"]])
c.request("GET", "/health")
r = c.getresponse()
out.append([r.status, r.read().decode()])
print(json.dumps(out))
`;
    // asynchronously: the server answering it runs on this thread
    const { stdout } = await promisify(execFile)('python3', ['-c', script, hostname, port, s.cookie]);
    assert.deepEqual(JSON.parse(stdout), [
      [200, 0],
      [200, 1],
      [200, 2],
      [200, 3],
      [200, 4],
      [200, 'ok\n'],
    ]);
    assert.deepEqual(s.server.frontCounts(), { served: 5, handedOver: 1, pauses: 0 });
  });
});

describe('rpc POST front: which heads it reads', () => {
  const base = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10';
  it('reads a plain call', () => {
    assert.deepEqual(parseHead(`${base}\r\nAuthorization: Basic abc`), {
      length: 10,
      authorization: 'Basic abc',
      close: false,
    });
    assert.equal(parseHead(`${base}\r\nConnection: keep-alive, Close`)?.close, true);
  });
  it('leaves everything unusual to node:http', () => {
    for (const head of [
      base.replace('POST / ', 'POST /rest '),
      base.replace('POST / ', 'GET / '),
      base.replace('HTTP/1.1', 'HTTP/1.0'),
      'POST / HTTP/1.1\r\nContent-Length: 10',
      `${base}\r\nHost: y`,
      `${base}\r\nContent-Length: 10`,
      base.replace('10', '+10'),
      base.replace('10', '1e3'),
      `${base}\r\nTransfer-Encoding: chunked`,
      `${base}\r\nExpect: 100-continue`,
      `${base}\r\nUpgrade: websocket\r\nConnection: Upgrade`,
      `${base}\r\n folded`,
      `${base}\r\nBad Name: x`,
      `${base}\r\nX: a\u0000b`,
      `${base}\r\nAuthorization: a\r\nAuthorization: b`,
    ])
      assert.equal(parseHead(head), undefined, JSON.stringify(head));
  });
});
