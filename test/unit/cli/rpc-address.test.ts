/**
 * `--datadir` of another node picks that node's RPC address: the CLI reads `<datadir>/.rpcaddress`
 * (written by cairnd beside `.cookie`), so it never sends one node's cookie to another node.
 * Flags win field by field; without the file, 127.0.0.1 and the network's port as before.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RpcClient, readRpcAddress, resolveRpcOptions } from '../../../services/cli/rpc-client.ts';
import { tempDir } from '../../helpers/node.ts';
import { startServer } from '../rpc/helpers.ts';

const dirs: { remove: () => void }[] = [];
after(() => {
  for (const d of dirs) d.remove();
});

function dataDir(rpcaddress?: string): string {
  const d = tempDir('cairn-rpcaddr-');
  dirs.push(d);
  writeFileSync(join(d.path, '.cookie'), '__cookie__:secret');
  if (rpcaddress !== undefined) writeFileSync(join(d.path, '.rpcaddress'), rpcaddress);
  return d.path;
}

describe('cli: the RPC address from <datadir>/.rpcaddress', () => {
  it('reads host:port and [v6]:port; wildcards become loopback; anything else is ignored', () => {
    assert.deepEqual(readRpcAddress(dataDir('127.0.0.1:23131\n')), { host: '127.0.0.1', port: 23131 });
    assert.deepEqual(readRpcAddress(dataDir('[::1]:23132\n')), { host: '::1', port: 23132 });
    assert.deepEqual(readRpcAddress(dataDir('0.0.0.0:23133')), { host: '127.0.0.1', port: 23133 });
    assert.deepEqual(readRpcAddress(dataDir('[::]:23134')), { host: '::1', port: 23134 });
    assert.deepEqual(readRpcAddress(dataDir('node.example:2131')), { host: 'node.example', port: 2131 });
    for (const bad of ['', 'garbage', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'a b:1'])
      assert.equal(readRpcAddress(dataDir(bad)), undefined, bad);
    assert.equal(readRpcAddress(dataDir()), undefined);
  });

  it('the data directory picks the address; flags win field by field; no file is the old default', () => {
    const d = dataDir('127.0.0.5:24000\n');
    const o = resolveRpcOptions({ network: 'local', datadir: d });
    assert.deepEqual([o.host, o.port, o.user, o.password], ['127.0.0.5', 24000, '__cookie__', 'secret']);
    assert.equal(resolveRpcOptions({ network: 'local', datadir: d, rpcport: 1 }).host, '127.0.0.5');
    assert.equal(resolveRpcOptions({ network: 'local', datadir: d, rpcport: 1 }).port, 1);
    assert.equal(resolveRpcOptions({ network: 'local', datadir: d, rpcconnect: 'h' }).port, 24000);
    const none = resolveRpcOptions({ network: 'local', datadir: dataDir() });
    assert.deepEqual([none.host, none.port], ['127.0.0.1', 22131]);
  });

  it('reaches a node on a port not its network default with only --datadir', async () => {
    const srv = await startServer();
    try {
      // the server wrote .rpcaddress (when the RPC side has it); write it here otherwise
      const port = Number(srv.url.split(':')[2]!.replace('/', ''));
      if (readRpcAddress(srv.dataDir) === undefined)
        writeFileSync(join(srv.dataDir, '.rpcaddress'), `127.0.0.1:${port}\n`);
      const c = new RpcClient(resolveRpcOptions({ network: 'local', datadir: srv.dataDir }));
      try {
        assert.equal(await c.call('subtract', [7, 2]), 5);
      } finally {
        c.close();
      }
    } finally {
      await srv.close();
    }
  });
});
