/**
 * Why the ZapHandler exists, shown in a process that has none: libzmq then lets EVERY CURVE client
 * in (any key pair completes the handshake). Our server options set zapEnforceDomain, so a server
 * socket fails closed instead, and RequestServer / PubSocket refuse to start at all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Request, Router } from 'zeromq';
import { silentLogger } from '../../../shared/log.ts';
import { type CurveKeys, serverOptions } from '../../../shared/zmq/curve.ts';
import { PubSocket } from '../../../shared/zmq/publisher.ts';
import { RequestServer } from '../../../shared/zmq/server.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { keys } from './helpers.ts';
import { freePorts } from './ports.ts';

type RouterOptions = ConstructorParameters<typeof Router>[0];

async function probe(options: (server: CurveKeys) => RouterOptions, port: number): Promise<boolean> {
  const server = keys();
  const stranger = keys();
  const router = new Router({ ...options(server), linger: 0 });
  await router.bind(`tcp://127.0.0.1:${port}`);
  const served = (async () => {
    try {
      const m = await router.receive();
      await router.send([m[0]!, '', 'pong']);
    } catch {
      // closed
    }
  })();
  const req = new Request({
    curveServerKey: server.publicKey,
    curvePublicKey: stranger.publicKey,
    curveSecretKey: stranger.secretKey,
    linger: 0,
    receiveTimeout: 500,
  });
  req.connect(`tcp://127.0.0.1:${port}`);
  let answered = false;
  try {
    await req.send('ping');
    answered = (await req.receive()).toString() === 'pong';
  } catch {
    answered = false;
  }
  req.close();
  router.close();
  await served;
  return answered;
}

describe('no ZAP handler in the process', () => {
  it('libzmq alone lets any CURVE key in (the hazard)', async () => {
    assert.equal(ZapHandler.active(), null);
    const [port] = await freePorts(1);
    const plainCurve = (k: CurveKeys): RouterOptions => ({
      curveServer: true,
      curveSecretKey: k.secretKey,
      zapDomain: 'peers',
    });
    assert.equal(await probe(plainCurve, port!), true);
  });

  it('our server options fail closed (zapEnforceDomain)', async () => {
    const [port] = await freePorts(1);
    assert.equal(await probe((k) => serverOptions(k, 'peers'), port!), false);
  });

  it('RequestServer and a CURVE PubSocket refuse to start', async () => {
    const [p1, p2] = await freePorts(2);
    const s = new RequestServer(
      { endpoints: [`tcp://127.0.0.1:${p1}`], keys: keys(), zapDomain: 'peers' },
      { logger: silentLogger() },
    );
    await assert.rejects(
      s.start(async () => []),
      { code: 'transport-no-zap' },
    );
    const pub = new PubSocket(
      { endpoints: [`tcp://127.0.0.1:${p2}`], curve: { keys: keys(), zapDomain: 'feed' } },
      { logger: silentLogger() },
    );
    await assert.rejects(pub.bind(), { code: 'transport-no-zap' });
  });
});
