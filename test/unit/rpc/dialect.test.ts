/**
 * Bitcoin Core's two JSON-RPC dialects (jsonrpc.ts): 2.0 strictly for `"jsonrpc": "2.0"`, the
 * legacy 1.0 envelope for every other request object, each batch element in its own; HTTP status
 * as Core's httprpc.cpp sends it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerJsonRpc, dialectOf, legacyErrorStatus } from '../../../services/node/rpc/jsonrpc.ts';
import { testRegistry } from './helpers.ts';

const ctx = { user: 'u', ip: '127.0.0.1' };
async function ask(body: unknown): Promise<{ status: number; json: unknown }> {
  const a = await answerJsonRpc(typeof body === 'string' ? body : JSON.stringify(body), testRegistry(), ctx);
  return { status: a.status, json: a.body === undefined ? undefined : JSON.parse(a.body) };
}

describe('JSON-RPC dialects', () => {
  it('reads the dialect from the jsonrpc member', () => {
    assert.deepEqual(dialectOf({ jsonrpc: '2.0' }), { dialect: '2.0' });
    assert.deepEqual(dialectOf({ jsonrpc: '1.0' }), { dialect: '1.0' });
    assert.deepEqual(dialectOf({}), { dialect: '1.0' });
    assert.deepEqual(dialectOf({ jsonrpc: null }), { dialect: '1.0' });
    assert.equal(dialectOf({ jsonrpc: '1.1' }).bad, 'invalid request: JSON-RPC version not supported');
    assert.equal(dialectOf({ jsonrpc: 2 }).bad, 'invalid request: jsonrpc field must be a string');
  });

  it('maps a 1.0 error code to Core’s HTTP status', () => {
    assert.equal(legacyErrorStatus(-32600), 400);
    assert.equal(legacyErrorStatus(-32601), 404);
    for (const c of [-32700, -32602, -32603, -1, -5, -8, -22, -26]) assert.equal(legacyErrorStatus(c), 500);
  });

  it('answers 1.0 with result and error both present, id echoed whatever it is', async () => {
    assert.deepEqual(await ask({ jsonrpc: '1.0', id: 'curltest', method: 'echo', params: [5] }), {
      status: 200,
      json: { result: 5, error: null, id: 'curltest' },
    });
    assert.deepEqual(await ask({ id: { any: [1] }, method: 'subtract', params: [3, 1] }), {
      status: 200,
      json: { result: 2, error: null, id: { any: [1] } },
    });
    // params null counts as none in 1.0 (Core)
    assert.deepEqual((await ask({ id: 1, method: 'nothing', params: null })).json, {
      result: null,
      error: null,
      id: 1,
    });
  });

  it('answers a 1.0 request without id (no notifications in 1.0), leaving id out as Core', async () => {
    assert.deepEqual(await ask({ method: 'echo', params: ['x'] }), {
      status: 200,
      json: { result: 'x', error: null },
    });
  });

  it('sends a 1.0 error with HTTP 404 / 400 / 500 and result null', async () => {
    const nf = await ask({ jsonrpc: '1.0', id: 1, method: 'nope' });
    assert.equal(nf.status, 404);
    assert.deepEqual(nf.json, {
      result: null,
      error: { code: -32601, message: 'method not found: nope' },
      id: 1,
    });
    const bad = await ask({ jsonrpc: '1.0', id: 2, method: 7 });
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { error: { code: number } }).error.code, -32600);
    const version = await ask({ jsonrpc: '3.0', id: 3, method: 'echo', params: [1] });
    assert.equal(version.status, 400);
    assert.equal((version.json as { id: number }).id, 3);
    const params = await ask({ id: 4, method: 'getblockhash', params: ['x'] });
    assert.equal(params.status, 500);
    assert.deepEqual(Object.keys(params.json as object), ['result', 'error', 'id']);
    const rpcErr = await ask({ id: 5, method: 'notfound' });
    assert.equal(rpcErr.status, 500);
    assert.deepEqual((rpcErr.json as { error: unknown }).error, {
      code: -5,
      message: 'Block not found',
      data: { hint: 'x' },
    });
    const crash = await ask({ id: 6, method: 'crash' });
    assert.equal(crash.status, 500);
    assert.deepEqual(crash.json, { result: null, error: { code: -32603, message: 'internal error' }, id: 6 });
  });

  it('answers a body that is not JSON, or not an object, in 1.0 with HTTP 500 (Core)', async () => {
    for (const body of ['{', '"text"', 'null', '42']) {
      const r = await ask(body);
      assert.equal(r.status, 500, body);
      const o = r.json as { result: unknown; error: { code: number }; id: unknown };
      assert.equal(o.result, null);
      assert.equal(o.error.code, -32700);
      assert.equal(o.id, null);
    }
  });

  it('keeps 2.0 strict: HTTP 200 for errors, no result member on errors, notifications silent', async () => {
    assert.deepEqual(await ask({ jsonrpc: '2.0', id: 1, method: 'nope' }), {
      status: 200,
      json: { jsonrpc: '2.0', error: { code: -32601, message: 'method not found: nope' }, id: 1 },
    });
    assert.deepEqual(await ask({ jsonrpc: '2.0', method: 'echo', params: [1] }), {
      status: 204,
      json: undefined,
    });
    const badId = await ask({ jsonrpc: '2.0', id: {}, method: 'echo', params: [1] });
    assert.equal((badId.json as { error: { code: number } }).error.code, -32600);
    const nullParams = await ask({ jsonrpc: '2.0', id: 2, method: 'nothing', params: null });
    assert.equal((nullParams.json as { error: { code: number } }).error.code, -32600);
  });

  it('answers each batch element in its own dialect, HTTP 200 even for 1.0 errors', async () => {
    const r = await ask([
      { jsonrpc: '2.0', id: 1, method: 'echo', params: ['a'] },
      { jsonrpc: '1.0', id: 2, method: 'echo', params: ['b'] },
      { id: 3, method: 'nope' },
      { jsonrpc: '2.0', method: 'echo', params: ['notified'] },
      { method: 'echo', params: ['no id, 1.0'] },
      'not an object',
      { jsonrpc: '2.0', id: 4, method: 'nope' },
    ]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, [
      { jsonrpc: '2.0', result: 'a', id: 1 },
      { result: 'b', error: null, id: 2 },
      { result: null, error: { code: -32601, message: 'method not found: nope' }, id: 3 },
      { result: 'no id, 1.0', error: null },
      { result: null, error: { code: -32600, message: 'invalid request: not an object' }, id: null },
      { jsonrpc: '2.0', error: { code: -32601, message: 'method not found: nope' }, id: 4 },
    ]);
  });

  it('answers an empty batch with one 2.0 -32600 (the 2.0 specification; Core sends 204)', async () => {
    const r = await ask([]);
    assert.equal(r.status, 200);
    assert.equal((r.json as { jsonrpc: string; error: { code: number } }).error.code, -32600);
  });
});
