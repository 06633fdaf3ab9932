/**
 * An outbound peer's stall count (three in a row drop the peer) counts requests the peer left
 * unanswered, not our own queue being full: relay bursts under load once filled the 64-request
 * queue, the refusals counted as stalls, and healthy peers were dropped (issue 11's devnet:
 * "stalled (20 requests without answer)"). Real CURVE sockets: a ROUTER that never answers.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Router } from 'zeromq';
import { encodePing } from '../../../services/node/p2p/messages.ts';
import { OutboundPeer } from '../../../services/node/p2p/outbound.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { silentLogger } from '../../../shared/log.ts';
import { keys } from '../zmq/helpers.ts';
import { freePorts } from '../zmq/ports.ts';

async function silentPeer(): Promise<{ peer: OutboundPeer; silent: Router }> {
  const server = keys();
  const [port] = await freePorts(1);
  const silent = new Router({ curveServer: true, curveSecretKey: server.secretKey });
  await silent.bind(`tcp://127.0.0.1:${port}`);
  const peer = new OutboundPeer(
    {
      address: `127.0.0.1:${port}`,
      key: server.publicKey,
      identity: keys(),
      params: LOCAL,
      listen: [],
      userAgent: 'test',
      timeoutMs: 1_500,
      maxMessageBytes: 1_000_000,
    },
    {
      logger: silentLogger(),
      summary: () => ({ tipHash: LOCAL.genesisHash, height: 0, work: 1n }),
      clock: () => Math.floor(Date.now() / 1000),
    },
  );
  return { peer, silent };
}

it('a full request queue is not a stall; an unanswered request is', { timeout: 20_000 }, async () => {
  const { peer, silent } = await silentPeer();
  try {
    // one in flight, 64 queued, the rest refused at once by our own queue
    const calls = Array.from({ length: 70 }, () =>
      peer.ping().then(
        () => 'answered',
        (e: { code?: string }) => e.code ?? 'error',
      ),
    );
    const first = await Promise.race(calls);
    assert.equal(first, 'transport-busy');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(peer.stalls, 0, 'refusals of our own queue are not stalls');
    // nor bytes sent (getpeerinfo's bytessent): the 65 queued or in flight count, the 5 refused not
    const ping = 'ping'.length + encodePing(new Uint8Array(8), 0).length;
    assert.equal(peer.bytesSent, 65 * ping);
    // the one in flight times out: that is a stall
    await calls[0];
    assert.ok(peer.stalls >= 1);
  } finally {
    await peer.close();
    silent.close();
  }
});

it('requests in flight together that time out together are one stall, not one each', {
  timeout: 20_000,
}, async () => {
  const { peer, silent } = await silentPeer();
  try {
    // several requests in flight at once (the pipeline), all unanswered
    const wave = () =>
      Promise.allSettled(Array.from({ length: 4 }, () => peer.ping())).then((r) =>
        r.every((x) => x.status === 'rejected'),
      );
    assert.ok(await wave());
    assert.equal(peer.stalls, 1, 'one timeout of a silent peer is one stall');
    assert.ok(await wave());
    assert.equal(peer.stalls, 2, 'the next timeout is the next stall');
  } finally {
    await peer.close();
    silent.close();
  }
});
