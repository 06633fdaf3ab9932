/**
 * Interop with libzmq through pyzmq: a stock Python CURVE REQ client talks to our RequestServer;
 * with a key off the allow-list it gets nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { silentLogger } from '../../../shared/log.ts';
import { RequestServer } from '../../../shared/zmq/server.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { keys } from './helpers.ts';
import { freePort } from './ports.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../fixtures/zmq/pyzmq_client.py', import.meta.url));

async function pyzmqMissing(): Promise<string | null> {
  try {
    await run(PYTHON, ['-c', 'import zmq; assert zmq.has("curve"), "libzmq without CURVE"']);
    return null;
  } catch (e) {
    return `pyzmq with CURVE not available in ${PYTHON}: ${(e as Error).message.split('\n')[0]}`;
  }
}

const zap = new ZapHandler({ logger: silentLogger() });
const serverKeys = keys();
const listed = keys();
let server: RequestServer;
let port: number;
let missing: string | null;

before(async () => {
  missing = await pyzmqMissing();
  await zap.start();
  zap.setPolicy('py', { allow: new Set([listed.publicKey]) });
  port = await freePort();
  server = new RequestServer(
    { endpoints: [`tcp://127.0.0.1:${port}`], keys: serverKeys, zapDomain: 'py' },
    { logger: silentLogger() },
  );
  await server.start(async (req) => [Buffer.from('pong'), ...req.frames]);
});

after(async () => {
  await server.stop();
  await zap.stop();
});

async function py(client: { publicKey: string; secretKey: string }, timeoutMs: number): Promise<string> {
  const { stdout } = await run(PYTHON, [
    SCRIPT,
    `tcp://127.0.0.1:${port}`,
    serverKeys.publicKey,
    client.publicKey,
    client.secretKey,
    String(timeoutMs),
    'hello',
    'world',
  ]);
  return stdout.trim();
}

describe('pyzmq interop', () => {
  it('an allow-listed pyzmq CURVE REQ gets an answer', async (t) => {
    if (missing !== null) {
      t.skip(missing);
      return;
    }
    assert.equal(await py(listed, 5_000), 'REPLY pong|hello|world');
  });

  it('an unlisted pyzmq CURVE REQ gets no answer', async (t) => {
    if (missing !== null) {
      t.skip(missing);
      return;
    }
    const refusedBefore = zap.counters.refused;
    assert.equal(await py(keys(), 1_000), 'TIMEOUT');
    assert.ok(zap.counters.refused > refusedBefore);
  });
});
