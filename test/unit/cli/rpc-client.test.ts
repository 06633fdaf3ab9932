/**
 * The CLI's RPC client against the node's real RPC server: cookie found in the data directory,
 * batches, and each failure a typed error saying what to do (nothing listening, 401, RPC error).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseParam, parseParams } from '../../../services/cli/commands/rpc.ts';
import { RpcClientError } from '../../../services/cli/errors.ts';
import { rpcText } from '../../../services/cli/output.ts';
import { ProgressBar } from '../../../services/cli/progress.ts';
import { RpcClient, resolveRpcOptions } from '../../../services/cli/rpc-client.ts';
import { type Running, startServer } from '../rpc/helpers.ts';
import { freePort } from '../zmq/ports.ts';

let srv: Running;
let port: number;
before(async () => {
  srv = await startServer();
  port = Number(srv.url.split(':')[2]!.replace('/', ''));
});
after(() => srv.close());

const isErr = (code: string, re: RegExp, rpcCode?: number) => (e: unknown) =>
  e instanceof RpcClientError &&
  e.code === code &&
  re.test(e.message) &&
  (rpcCode === undefined || e.rpcCode === rpcCode);

describe('cli rpc client', () => {
  it('finds the cookie in the data directory and calls methods and batches', async () => {
    const c = new RpcClient(resolveRpcOptions({ network: 'local', datadir: srv.dataDir, rpcport: port }));
    try {
      assert.equal(await c.call('subtract', [7, 2]), 5);
      assert.equal(await c.call('subtract', { minuend: 1, subtrahend: 3 }), -2);
      const batch = await c.batch([
        { method: 'subtract', params: [3, 1] },
        { method: 'notfound' },
        { method: 'getblockhash', params: [7] },
      ]);
      assert.deepEqual(batch[0], { ok: true, result: 2 });
      assert.equal(batch[1]!.ok, false);
      assert.ok(!batch[1]!.ok && batch[1]!.error.rpcCode === -5);
      assert.deepEqual(batch[2], { ok: true, result: `${'0'.repeat(60)}0007` });
    } finally {
      c.close();
    }
  });

  it('passes the node’s error code and message through', async () => {
    const c = new RpcClient(resolveRpcOptions({ network: 'local', datadir: srv.dataDir, rpcport: port }));
    try {
      await assert.rejects(
        c.call('notfound'),
        isErr('rpc-error', /notfound: Block not found \(code -5\)/, -5),
      );
      await assert.rejects(c.call('nosuchmethod'), isErr('rpc-error', /code -32601/, -32601));
      await assert.rejects(c.call('subtract', ['x', 1]), isErr('rpc-error', /minuend/, -32602));
    } finally {
      c.close();
    }
  });

  it('says when the credentials are refused (401) or missing', async () => {
    const c = new RpcClient({ host: '127.0.0.1', port, user: '__cookie__', password: 'stale' });
    try {
      await assert.rejects(c.call('subtract', [1, 1]), isErr('rpc-unauthorized', /HTTP 401/));
    } finally {
      c.close();
    }
    assert.throws(
      () => resolveRpcOptions({ network: 'local', datadir: '/nonexistent/dir' }),
      isErr('rpc-no-credentials', /\/nonexistent\/dir\/\.cookie .*--datadir/),
    );
    assert.throws(
      () => resolveRpcOptions({ network: 'local', rpcuser: 'u' }),
      isErr('rpc-no-credentials', /together/),
    );
  });

  it('says when nothing listens, naming the address', async () => {
    const dead = await freePort();
    const c = new RpcClient({ host: '127.0.0.1', port: dead, user: 'u', password: 'p' });
    try {
      await assert.rejects(
        c.call('getblockcount'),
        isErr('rpc-unreachable', new RegExp(`127\\.0\\.0\\.1:${dead}.*connection refused`)),
      );
    } finally {
      c.close();
    }
  });

  it('uses the network’s default port', () => {
    assert.equal(resolveRpcOptions({ network: 'local', rpcuser: 'u', rpcpassword: 'p' }).port, 22131);
    assert.equal(resolveRpcOptions({ network: 'main', rpcuser: 'u', rpcpassword: 'p' }).port, 2131);
  });
});

describe('cli rpc parameters and output', () => {
  it('parses parameters as JSON where they parse, else as strings (as bitcoin-cli)', () => {
    assert.deepEqual(parseParams(['12', 'lcairn1abc', 'true', '[1,"a"]', '{"x":1}', 'null', '"7"'], false), [
      12,
      'lcairn1abc',
      true,
      [1, 'a'],
      { x: 1 },
      null,
      '7',
    ]);
    assert.deepEqual(parseParams(['count=5', 'asset=ab12ff', 'name=a=b'], true), {
      count: 5,
      asset: 'ab12ff',
      name: 'a=b',
    });
    assert.throws(() => parseParams(['novalue'], true), /key=value/);
    assert.equal(parseParam('00ff'), '00ff');
  });

  it('prints strings bare and everything else as JSON', () => {
    assert.equal(rpcText('abc'), 'abc');
    assert.equal(rpcText(5), '5');
    assert.equal(rpcText(undefined), 'null');
    assert.equal(rpcText({ a: [1] }), '{\n  "a": [\n    1\n  ]\n}');
  });

  it('draws a progress bar only on a terminal and never with --json', () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar('confirming', { json: false, stream: tty });
    bar.update(1, 3, 'abc');
    bar.update(3, 3);
    bar.finish();
    assert.match(written[0]!, /^\rconfirming \[█{10}░{20}\] 1\/3 abc/);
    assert.match(written[1]!, /\[█{30}\] 3\/3/);
    assert.equal(written[2], '\n');
    const quiet: string[] = [];
    const pipe = { isTTY: false, write: (s: string) => quiet.push(s) } as unknown as NodeJS.WriteStream;
    new ProgressBar('x', { json: false, stream: pipe }).update(1, 2);
    new ProgressBar('x', { json: true, stream: tty }).update(1, 2);
    assert.deepEqual(quiet, []);
    assert.equal(written.length, 3);
  });
});
