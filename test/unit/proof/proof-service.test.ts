/**
 * The node's proof channel with a recorder built from our own socket primitives (real CURVE
 * sockets on 127.0.0.1, real ZAP, real chain state): hello with key proof, own-topic jobs, block
 * and share submissions, stale after a tip change, unknown jobs, an unlisted key refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Subscriber } from 'zeromq';
import { ChainState } from '../../../services/node/chain-state.ts';
import { ProofService } from '../../../services/node/proof/proof-service.ts';
import { NONCE_OFFSET } from '../../../shared/core/block/types.ts';
import { hashToHex } from '../../../shared/core/bytes.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import { hashMeetsTargetBytes, targetToLeBytes } from '../../../shared/core/pow/compact.ts';
import { z85Decode } from '../../../shared/identity/z85.ts';
import { silentLogger } from '../../../shared/log.ts';
import {
  decodeJob,
  decodeSubmitReply,
  encodeRecorderHello,
  encodeSubmission,
  helloProofContext,
  type Job,
  PROOF_VERSION,
} from '../../../shared/proof/messages.ts';
import { RequestClient } from '../../../shared/zmq/client.ts';
import { clientOptions, keyProof } from '../../../shared/zmq/curve.ts';
import { ZapHandler } from '../../../shared/zmq/zap.ts';
import { makeKey } from '../../helpers/chain.ts';
import { makeProbeIdentity } from '../../helpers/cluster.ts';
import { tempDir } from '../../helpers/node.ts';
import { freePorts } from '../zmq/ports.ts';

const dir = tempDir('cairn-proof-');
let state: ChainState;
let zap: ZapHandler;
let proof: ProofService;
let ports: number[];
const nodeId = makeProbeIdentity(dir.path, 'node-proof');
const recorderId = makeProbeIdentity(dir.path, 'recorder');
const strangerId = makeProbeIdentity(dir.path, 'stranger');
const payout = makeKey();

before(async () => {
  ports = await freePorts(2);
  zap = new ZapHandler({ logger: silentLogger() });
  await zap.start();
  state = await ChainState.open(
    { dataDir: dir.path, params: LOCAL, verifyWorkers: 0 },
    { logger: silentLogger() },
  );
  state.generate(3, payout.owner);
  proof = new ProofService(
    {
      jobsListen: [`127.0.0.1:${ports[0]}`],
      submitListen: [`127.0.0.1:${ports[1]}`],
      recorders: [recorderId.publicKey],
      shareBits: 4,
      jobExpirySeconds: 600,
      // low enough that a burst of sequential requests meets it whatever the machine's speed
      submitRate: { perSecond: 20, burst: 40 },
    },
    { state, identity: nodeId, zap, logger: silentLogger(), clock: () => Math.floor(Date.now() / 1000) },
  );
  await proof.start();
});

after(async () => {
  await proof.stop();
  await state.close();
  await zap.stop();
  dir.remove();
});

function hello(id = recorderId, owner = payout.owner): Uint8Array {
  const base = {
    recorderKey: z85Decode(id.publicKey),
    payout: owner,
    time: Math.floor(Date.now() / 1000),
    nonce: new Uint8Array(randomBytes(8)),
  };
  return encodeRecorderHello({
    ...base,
    version: PROOF_VERSION,
    genesis: LOCAL.genesisHash,
    userAgent: 'test-recorder',
    proof: keyProof(id.secretKey, nodeId.publicKey, helloProofContext(base, z85Decode(nodeId.publicKey))),
  });
}

async function subscribe(id = recorderId): Promise<{ next: () => Promise<Job>; close: () => void }> {
  const sub = new Subscriber({ ...clientOptions(id, nodeId.publicKey), linger: 0 });
  sub.connect(`tcp://127.0.0.1:${ports[0]}`);
  sub.subscribe(id.publicKey);
  const iter = sub[Symbol.asyncIterator]();
  return {
    next: async () => {
      const r = await iter.next();
      const frames = r.value as Buffer[];
      assert.equal(frames[0]!.toString(), id.publicKey, 'a job on our own topic');
      assert.equal(frames[1]!.toString(), 'job');
      return decodeJob(frames[2]!);
    },
    close: () => sub.close(),
  };
}

function solve(job: Job, target: bigint): bigint {
  const h = Buffer.from(job.header);
  const le = targetToLeBytes(target);
  for (let n = 0n; ; n++) {
    h.writeBigUInt64LE(n, NONCE_OFFSET);
    if (hashMeetsTargetBytes(sha256d(h), le)) return n;
  }
}

describe('proof channel (node side)', () => {
  it('a listed recorder says hello, gets its own jobs, and its solution becomes the tip paying its address', async () => {
    const sub = await subscribe();
    const req = new RequestClient(
      { endpoint: `tcp://127.0.0.1:${ports[1]}`, keys: recorderId, serverKey: nodeId.publicKey },
      { logger: silentLogger() },
    );
    try {
      const r = await req.request(['hello', Buffer.from(hello())], { timeoutMs: 5000 });
      assert.equal(r[0]!.toString(), 'ok');
      const job = await sub.next();
      assert.equal(job.height, state.chain.tipHeight() + 1);
      assert.ok(job.shareTarget >= job.target);
      const nonce = solve(job, job.target);
      const reply = decodeSubmitReply(
        (
          await req.request(['submit', Buffer.from(encodeSubmission({ jobId: job.jobId, nonce }))], {
            timeoutMs: 5000,
          })
        )[1]!,
      );
      assert.equal(reply.status, 'ok');
      assert.equal(hashToHex(state.chain.tip.hash), hashToHex(reply.blockHash!));
      const coinbase = state.chain.getBlock(state.chain.tip.hash)!.txs[0]!;
      assert.equal(
        Buffer.from(coinbase.tx.outputs[0]!.owner).toString('hex'),
        Buffer.from(payout.owner).toString('hex'),
      );
      // the same job again: the tip moved, so it is stale
      const again = decodeSubmitReply(
        (
          await req.request(['submit', Buffer.from(encodeSubmission({ jobId: job.jobId, nonce }))], {
            timeoutMs: 5000,
          })
        )[1]!,
      );
      assert.equal(again.status, 'stale');
      // a job id never issued
      const unknown = decodeSubmitReply(
        (
          await req.request(['submit', Buffer.from(encodeSubmission({ jobId: 1n, nonce }))], {
            timeoutMs: 5000,
          })
        )[1]!,
      );
      assert.equal(unknown.status, 'unknown-job');
      // the new tip brought a clean job at once; a hash between the target and the share target is a share
      let fresh = await sub.next();
      while (fresh.height !== state.chain.tipHeight() + 1) fresh = await sub.next();
      assert.equal(fresh.clean, true);
      const h = Buffer.from(fresh.header);
      let shareNonce = -1n;
      for (let n = 0n; n < 100_000n; n++) {
        h.writeBigUInt64LE(n, NONCE_OFFSET);
        const hash = sha256d(h);
        if (
          hashMeetsTargetBytes(hash, targetToLeBytes(fresh.shareTarget)) &&
          !hashMeetsTargetBytes(hash, targetToLeBytes(fresh.target))
        ) {
          shareNonce = n;
          break;
        }
      }
      if (shareNonce >= 0n) {
        const share = decodeSubmitReply(
          (
            await req.request(
              ['submit', Buffer.from(encodeSubmission({ jobId: fresh.jobId, nonce: shareNonce }))],
              { timeoutMs: 5000 },
            )
          )[1]!,
        );
        assert.equal(share.status, 'share');
        assert.equal(proof.stats()[0]!.shares, 1);
      }
      assert.equal(proof.stats()[0]!.blocks, 1);
    } finally {
      req.close();
      sub.close();
    }
  });

  it('a hello without a valid proof is refused; an unlisted key cannot even connect', async () => {
    const req = new RequestClient(
      { endpoint: `tcp://127.0.0.1:${ports[1]}`, keys: recorderId, serverKey: nodeId.publicKey },
      { logger: silentLogger() },
    );
    const forged = Buffer.from(hello());
    forged[forged.length - 1]! ^= 1; // the proof's last byte
    const r = await req.request(['hello', forged], { timeoutMs: 5000 });
    assert.deepEqual(r.slice(0, 2).map(String), ['error', 'bad-proof']);
    // a genuine hello of a key that is not on the list (sent over an allowed connection)
    const other = await req.request(['hello', Buffer.from(hello(strangerId))], { timeoutMs: 5000 });
    assert.deepEqual(other.slice(0, 2).map(String), ['error', 'not-allowed']);
    const before = await req.request(['submit', Buffer.alloc(16)], { timeoutMs: 5000 });
    assert.deepEqual(before.slice(0, 2).map(String), ['error', 'handshake-required']);
    req.close();
    const stranger = new RequestClient(
      { endpoint: `tcp://127.0.0.1:${ports[1]}`, keys: strangerId, serverKey: nodeId.publicKey },
      { logger: silentLogger() },
    );
    await assert.rejects(
      () => stranger.request(['hello', Buffer.from(hello(strangerId))], { timeoutMs: 1500 }),
      (e: { code?: string }) => e.code === 'transport-timeout',
    );
    stranger.close();
  });

  it('malformed submissions get an error reply; a flood is rate-limited; the node keeps serving', async () => {
    const req = new RequestClient(
      { endpoint: `tcp://127.0.0.1:${ports[1]}`, keys: recorderId, serverKey: nodeId.publicKey },
      { logger: silentLogger() },
    );
    try {
      assert.equal(
        (await req.request(['hello', Buffer.from(hello())], { timeoutMs: 5000 }))[0]!.toString(),
        'ok',
      );
      const bad = await req.request(['submit', Buffer.from([1, 2, 3])], { timeoutMs: 5000 });
      assert.deepEqual(bad.slice(0, 2).map(String), ['error', 'malformed']);
      const frames = await req.request(['submit'], { timeoutMs: 5000 });
      assert.deepEqual(frames.slice(0, 2).map(String), ['error', 'bad-frames']);
      const codes = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const r = await req.request(
          ['submit', Buffer.from(encodeSubmission({ jobId: 5n, nonce: BigInt(i) }))],
          { timeoutMs: 5000 },
        );
        codes.add(r[0]!.toString() === 'error' ? r[1]!.toString() : 'answered');
        if (codes.has('rate-limited')) break;
      }
      assert.ok(codes.has('rate-limited'), `a flood is limited (${[...codes].join(',')})`);
    } finally {
      req.close();
    }
  });

  it('generate mines on local only', () => {
    const h = state.chain.tipHeight();
    assert.equal(state.generate(2, payout.owner).length, 2);
    assert.equal(state.chain.tipHeight(), h + 2);
  });
});
