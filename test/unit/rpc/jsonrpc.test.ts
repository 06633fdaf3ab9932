/**
 * JSON-RPC 2.0 compliance over real HTTP (the cases of https://www.jsonrpc.org/specification §7),
 * plus the server's own rules: HTTP 200 for every JSON-RPC answer, 204 when only notifications.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, type Running, startServer } from './helpers.ts';

let srv: Running;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv.close();
});

async function call(body: string): Promise<{ status: number; json: unknown; raw: string }> {
  const r = await http(srv.url, { body, auth: srv.cookie });
  return { status: r.status, json: r.body === '' ? undefined : JSON.parse(r.body), raw: r.body };
}

/** Checks an error response by code and id (messages are for humans). */
function isError(v: unknown, code: number, id: unknown = null): void {
  const o = v as { jsonrpc: string; error: { code: number; message: string }; id: unknown };
  assert.equal(o.jsonrpc, '2.0');
  assert.equal(o.error.code, code, JSON.stringify(v));
  assert.equal(typeof o.error.message, 'string');
  assert.deepEqual(o.id, id);
  assert.equal(Object.hasOwn(o, 'result'), false);
}

describe('JSON-RPC 2.0 over HTTP', () => {
  it('answers a request with positional params', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { jsonrpc: '2.0', result: 19, id: 1 });
  });

  it('answers a request with named params, string id', async () => {
    const r = await call(
      '{"jsonrpc":"2.0","method":"subtract","params":{"subtrahend":23,"minuend":42},"id":"a"}',
    );
    assert.deepEqual(r.json, { jsonrpc: '2.0', result: 19, id: 'a' });
  });

  it('echoes a null id and answers without params', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"nothing","id":null}');
    assert.deepEqual(r.json, { jsonrpc: '2.0', result: null, id: null });
  });

  it('gives a notification no body (204)', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"subtract","params":[1,2]}');
    assert.equal(r.status, 204);
    assert.equal(r.raw, '');
  });

  it('gives a notification of an unknown method no body either', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"nope"}');
    assert.equal(r.status, 204);
  });

  it('answers a batch of only notifications with 204', async () => {
    const r = await call(
      '[{"jsonrpc":"2.0","method":"echo","params":[1]},{"jsonrpc":"2.0","method":"echo","params":[2]}]',
    );
    assert.equal(r.status, 204);
    assert.equal(r.raw, '');
  });

  it('answers a mixed batch in order, leaving out notifications', async () => {
    const r = await call(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'echo', params: [1], id: '1' },
        { jsonrpc: '2.0', method: 'echo', params: [7] },
        { jsonrpc: '2.0', method: 'subtract', params: [42, 23], id: '2' },
        { jsonrpc: '2.0', foo: 'boo' },
        { jsonrpc: '2.0', method: 'foo.get', params: { name: 'myself' }, id: '5' },
        { jsonrpc: '2.0', method: 'getblockhash', params: ['x'], id: '9' },
      ]),
    );
    assert.equal(r.status, 200);
    const a = r.json as unknown[];
    assert.equal(a.length, 5);
    assert.deepEqual(a[0], { jsonrpc: '2.0', result: 1, id: '1' });
    assert.deepEqual(a[1], { jsonrpc: '2.0', result: 19, id: '2' });
    isError(a[2], -32600, null);
    isError(a[3], -32601, '5');
    isError(a[4], -32602, '9');
  });

  it('answers an empty batch with one -32600', async () => {
    const r = await call('[]');
    assert.equal(r.status, 200);
    isError(r.json, -32600);
  });

  it('answers [1,2,3] with three -32600 (1.0 envelope: not request objects, as Core)', async () => {
    const r = await call('[1,2,3]');
    assert.equal(r.status, 200);
    const a = r.json as unknown[];
    assert.equal(a.length, 3);
    for (const x of a)
      assert.deepEqual(x, {
        result: null,
        error: { code: -32600, message: 'invalid request: not an object' },
        id: null,
      });
  });

  it('answers invalid JSON with -32700 and id null, as Core: 1.0 envelope, HTTP 500', async () => {
    for (const body of ['{"jsonrpc":"2.0","method":"foobar,"params":"bar","baz]', '', '[{"jsonrpc":"2.0"']) {
      const r = await call(body);
      assert.equal(r.status, 500);
      const o = r.json as { result: unknown; error: { code: number }; id: unknown };
      assert.equal(o.result, null);
      assert.equal(o.error.code, -32700);
      assert.equal(o.id, null);
    }
  });

  it('refuses invalid request objects with -32600', async () => {
    const cases: [string, unknown][] = [
      ['{"jsonrpc":"2.0","method":1,"params":"bar"}', null],
      ['{"jsonrpc":"2.0","method":"echo","params":[1],"id":{}}', null],
      ['{"jsonrpc":"2.0","method":"echo","params":[1],"id":[1]}', null],
      ['{"jsonrpc":"2.0","method":"echo","params":[1],"id":true}', null],
      ['{"jsonrpc":"2.0","method":"echo","params":"bar","id":3}', 3],
      ['{"jsonrpc":"2.0","method":"echo","params":null,"id":3}', 3],
    ];
    for (const [body, id] of cases) {
      const r = await call(body);
      isError(r.json, -32600, id);
    }
  });

  it('answers an unknown method with -32601', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"foobar","id":"1"}');
    isError(r.json, -32601, '1');
  });

  it('answers bad params with -32602 naming the parameter', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"getblockhash","params":["x"],"id":1}');
    isError(r.json, -32602, 1);
    assert.equal(
      (r.json as { error: { message: string } }).error.message,
      'height: expected an integer ≥ 0, got "x"',
    );
    const extra = await call('{"jsonrpc":"2.0","method":"getblockhash","params":[1,2],"id":2}');
    isError(extra.json, -32602, 2);
    const named = await call('{"jsonrpc":"2.0","method":"getblockhash","params":{"heigth":1},"id":3}');
    isError(named.json, -32602, 3);
    assert.match((named.json as { error: { message: string } }).error.message, /heigth/);
  });

  it("passes an RpcError's code, message and data through", async () => {
    const r = await call('{"jsonrpc":"2.0","method":"notfound","id":1}');
    assert.deepEqual(r.json, {
      jsonrpc: '2.0',
      error: { code: -5, message: 'Block not found', data: { hint: 'x' } },
      id: 1,
    });
  });

  it('hides the detail of an internal error', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"crash","id":1}');
    assert.deepEqual(r.json, { jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: 1 });
    assert.doesNotMatch(r.raw, /secret|stack|\.cairn/);
  });

  it('serialises bigint as a decimal string', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"big","id":1}');
    assert.deepEqual(r.json, { jsonrpc: '2.0', result: { amount: '123456789012345678901234567890' }, id: 1 });
  });

  it('passes the caller to the method', async () => {
    const r = await call('{"jsonrpc":"2.0","method":"whoami","id":1}');
    assert.deepEqual(r.json, { jsonrpc: '2.0', result: { user: '__cookie__', ip: '127.0.0.1' }, id: 1 });
  });
});
