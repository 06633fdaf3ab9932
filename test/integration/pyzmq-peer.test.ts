/**
 * An independent client (pyzmq, Debian's python3-zmq) against a real cairnd with peering.allow:
 * an unlisted key cannot complete the CURVE handshake (no answer at all); a listed key is
 * answered by the P2P protocol (here: told to say hello first).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeNode, makeProbeIdentity, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';

const PY = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../fixtures/zmq/pyzmq_client.py', import.meta.url));
const hasPyzmq = spawnSync(PY, ['-c', 'import zmq; assert zmq.has("curve")']).status === 0;

const root = tempDir('cairn-it-py-');
let node: NodeProcess | undefined;
after(async () => {
  await node?.kill();
  root.remove();
});

function py(endpoint: string, server: string, client: { publicKey: string; secretKey: string }): string {
  const r = spawnSync(
    PY,
    [SCRIPT, endpoint, server, client.publicKey, client.secretKey, '3000', 'ping', ''],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return r.stdout.trim();
}

describe('pyzmq against a cairnd peer listener with an allow-list', {
  skip: hasPyzmq ? false : 'pyzmq with CURVE not installed (apt-get install python3-zmq)',
}, () => {
  it('refuses an unlisted key and answers a listed one', async () => {
    const listed = makeProbeIdentity(root.path, 'listed');
    const unlisted = makeProbeIdentity(root.path, 'unlisted');
    node = await makeNode({ name: 'n', root: root.path, allow: [listed.publicKey] });
    await node.start();
    const endpoint = `tcp://${node.address}`;
    assert.equal(py(endpoint, node.key, unlisted), 'TIMEOUT');
    assert.equal(py(endpoint, node.key, listed), 'REPLY error|handshake-required|send hello first');
    await node.waitLog(/ZAP: connection refused/, 5_000);
  });
});
