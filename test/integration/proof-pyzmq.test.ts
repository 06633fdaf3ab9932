/**
 * An independent subscriber (pyzmq) against a real cairnd's job publisher: a recorder key not on
 * proof.recorders gets no jobs (its CURVE handshake is refused), and its submissions go unanswered.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeNode, makeProbeIdentity, type NodeProcess } from '../helpers/cluster.ts';
import { tempDir } from '../helpers/node.ts';

const PY = '/usr/bin/python3';
const SUB = fileURLToPath(new URL('../fixtures/zmq/pyzmq_sub.py', import.meta.url));
const REQ = fileURLToPath(new URL('../fixtures/zmq/pyzmq_client.py', import.meta.url));
const hasPyzmq = spawnSync(PY, ['-c', 'import zmq; assert zmq.has("curve")']).status === 0;
const root = tempDir('cairn-it-proof-py-');
let node: NodeProcess | undefined;
after(async () => {
  await node?.kill();
  root.remove();
});

describe('pyzmq against cairnd’s proof channel', {
  skip: hasPyzmq ? false : 'pyzmq with CURVE not installed (apt-get install python3-zmq)',
}, () => {
  it('an unlisted recorder key receives no jobs and is not answered', async () => {
    const listed = makeProbeIdentity(root.path, 'listed-recorder');
    const unlisted = makeProbeIdentity(root.path, 'unlisted-recorder');
    node = await makeNode({ name: 'n', root: root.path, recorders: [listed.publicKey] });
    await node.start();
    await node.waitLog(/proof channel/, 10_000);
    const proof = node.proof!;
    const sub = spawnSync(
      PY,
      [
        SUB,
        `tcp://${proof.jobs}`,
        proof.key,
        unlisted.publicKey,
        unlisted.secretKey,
        unlisted.publicKey,
        '2000',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(sub.stdout.trim(), 'MESSAGES 0');
    const req = spawnSync(
      PY,
      [
        REQ,
        `tcp://${proof.submit}`,
        proof.key,
        unlisted.publicKey,
        unlisted.secretKey,
        '2000',
        'submit',
        'x',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(req.stdout.trim(), 'TIMEOUT');
    // the listed key is answered (by the protocol: it must say hello first)
    const ok = spawnSync(
      PY,
      [REQ, `tcp://${proof.submit}`, proof.key, listed.publicKey, listed.secretKey, '3000', 'submit', 'x'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(ok.stdout.trim(), 'REPLY error|handshake-required|send hello first');
  });
});
