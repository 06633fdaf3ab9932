import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Subscriber } from 'zeromq';
import { silentLogger } from '../../../shared/log.ts';
import { clientOptions } from '../../../shared/zmq/curve.ts';
import { isLoopbackEndpoint } from '../../../shared/zmq/options.ts';
import { PubSocket } from '../../../shared/zmq/publisher.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { keys, sleep } from './helpers.ts';
import { freePorts } from './ports.ts';

const zap = new ZapHandler({ logger: silentLogger() });
const pubs: PubSocket[] = [];
const subs: Subscriber[] = [];

before(() => zap.start());
after(async () => {
  for (const s of subs) s.close();
  for (const p of pubs) p.close();
  await zap.stop();
});

function pub(opts: ConstructorParameters<typeof PubSocket>[0]): PubSocket {
  const p = new PubSocket(opts, { logger: silentLogger() });
  pubs.push(p);
  return p;
}

/** Publishes until the subscriber gets a message (PUB/SUB joins late) or `ms` elapse. */
async function firstMessage(p: PubSocket, sub: Subscriber, ms = 1_000): Promise<Buffer[] | null> {
  sub.receiveTimeout = 50;
  const end = Date.now() + ms;
  let seq = 0;
  while (Date.now() < end) {
    const s = Buffer.alloc(4);
    s.writeUInt32LE(seq++);
    await p.publish('hashblock', Buffer.from('body'), s);
    try {
      return await sub.receive();
    } catch {
      // nothing yet
    }
  }
  return null;
}

/** Waits until `cond` holds, up to `ms`. */
async function until(cond: () => boolean, ms = 3_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(20);
  return cond();
}

describe('PubSocket', () => {
  it('knows which topics have subscribers (XPUB): by prefix, and none after they leave', async () => {
    const [port] = await freePorts(1);
    const p = pub({ endpoints: [`tcp://127.0.0.1:${port}`] });
    await p.bind();
    assert.equal(p.wants('hashtx'), false, 'nobody connected');
    const a = new Subscriber({ linger: 0 });
    a.connect(`tcp://127.0.0.1:${port}`);
    a.subscribe('hash');
    assert.ok(await until(() => p.wants('hashtx')), 'a prefix covers hashtx');
    assert.equal(p.wants('hashblock'), true);
    assert.equal(p.wants('rawtx'), false);
    assert.equal(p.offer('rawtx', Buffer.from('x')), true, 'offer queues (libzmq filters)');
    const b = new Subscriber({ linger: 0 });
    b.connect(`tcp://127.0.0.1:${port}`);
    b.subscribe('');
    assert.ok(await until(() => p.wants('rawtx')), "'' covers everything");
    b.close();
    assert.ok(await until(() => !p.wants('rawtx')), 'its subscription goes with it');
    assert.equal(p.wants('hashtx'), true, 'the other still holds hash');
    a.close();
    assert.ok(await until(() => !p.wants('hashtx')), 'none left');
  });

  it('plain on loopback: a stock subscriber gets topic | body | seq', async () => {
    const [port] = await freePorts(1);
    const p = pub({ endpoints: [`tcp://127.0.0.1:${port}`] });
    await p.bind();
    const sub = new Subscriber({ linger: 0 });
    subs.push(sub);
    sub.connect(`tcp://127.0.0.1:${port}`);
    sub.subscribe('hashblock');
    const m = await firstMessage(p, sub);
    assert.ok(m !== null);
    assert.equal(m.length, 3);
    assert.equal(m[0]!.toString(), 'hashblock');
    assert.equal(m[1]!.toString(), 'body');
  });

  it('refuses plain on a non-loopback address with a clear error', () => {
    for (const e of [
      'tcp://0.0.0.0:2135',
      'tcp://*:2135',
      'tcp://[::]:2135',
      'tcp://192.168.1.2:2135',
      'tcp://eth0:2135',
    ])
      assert.throws(() => new PubSocket({ endpoints: [e] }, { logger: silentLogger() }), {
        code: 'transport-config',
        message: /plain .* loopback/,
      });
    for (const e of [
      'tcp://127.0.0.1:1',
      'tcp://127.1.2.3:1',
      'tcp://[::1]:1',
      'tcp://localhost:1',
      'ipc:///tmp/x',
    ])
      assert.equal(isLoopbackEndpoint(e), true, e);
  });

  it('CURVE with an allow-list: a listed subscriber receives, an unlisted one does not', async () => {
    const [port] = await freePorts(1);
    const server = keys();
    const listed = keys();
    const unlisted = keys();
    zap.setPolicy('feed', { allow: new Set([listed.publicKey]) });
    const p = pub({ endpoints: [`tcp://0.0.0.0:${port}`], curve: { keys: server, zapDomain: 'feed' } });
    await p.bind();
    const good = new Subscriber({ ...clientOptions(listed, server.publicKey), linger: 0 });
    const bad = new Subscriber({ ...clientOptions(unlisted, server.publicKey), linger: 0 });
    subs.push(good, bad);
    for (const s of [good, bad]) {
      s.connect(`tcp://127.0.0.1:${port}`);
      s.subscribe();
    }
    assert.ok((await firstMessage(p, good)) !== null);
    await sleep(100);
    assert.equal(await firstMessage(p, bad, 300), null);
    assert.ok(p.published > 0);
  });

  it('publish after close rejects transport-closed', async () => {
    const [port] = await freePorts(1);
    const p = pub({ endpoints: [`tcp://127.0.0.1:${port}`], lingerMs: 0 });
    await p.bind();
    p.close();
    await assert.rejects(p.publish('x'), { code: 'transport-closed' });
  });
});

describe('PubSocket queue', () => {
  it('keeps at most maxQueued messages waiting; a burst beyond is dropped at once, in order otherwise', async () => {
    const [port] = await freePorts(1);
    const p = pub({ endpoints: [`tcp://127.0.0.1:${port}`], maxQueued: 100 });
    await p.bind();
    const sub = new Subscriber();
    subs.push(sub);
    sub.connect(`tcp://127.0.0.1:${port}`);
    sub.subscribe();
    assert.notEqual(await firstMessage(p, sub), null);
    const before = p.published;
    // a synchronous burst, as a node connecting a batch of blocks publishes 3 messages per tx
    const outcomes = Array.from({ length: 5000 }, (_, i) =>
      p.publish('t', Buffer.from(String(i))).then(
        () => 'sent',
        (e: { code?: string }) => e.code,
      ),
    );
    assert.ok(p.dropped >= 4900 - 1, `dropped ${p.dropped}`);
    const results = await Promise.all(outcomes);
    assert.equal(results.filter((r) => r === 'sent').length, p.published - before);
    assert.ok(p.published - before <= 101, 'no more than the queue (and the one in flight) left');
    assert.equal(results.filter((r) => r === 'transport-busy').length, 5000 - (p.published - before));
    // what was kept arrives in order
    sub.receiveTimeout = 1000;
    let last = -1;
    for (let k = 0; k < p.published - before; k++) {
      const [, body] = await sub.receive();
      const n = Number(body!.toString());
      if (Number.isNaN(n)) continue; // a warm-up message of firstMessage
      assert.ok(n > last, 'in order');
      last = n;
    }
  });
});
