/**
 * A fake node for the recorder's tests, built from the real transport (shared/zmq): a CURVE
 * PubSocket publishing jobs per recorder topic and a RequestServer answering hello and submit as
 * the node's proof channel does (key proof checked, sessions per connection, `handshake-required`
 * without a hello, stale after expiry, blocks checked by recomputing SHA-256d). The test's one
 * ZapHandler must allow the recorder keys in domain `proof`.
 */
import { randomBytes } from 'node:crypto';
import { NONCE_OFFSET } from '../../../shared/core/block/types.ts';
import { equalBytes } from '../../../shared/core/bytes.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { LOCAL } from '../../../shared/core/params/networks.ts';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import { hashMeetsTargetBytes, targetToLeBytes } from '../../../shared/core/pow/compact.ts';
import { z85Decode, z85Encode } from '../../../shared/identity/z85.ts';
import { silentLogger } from '../../../shared/log.ts';
import {
  decodeRecorderHello,
  decodeSubmission,
  encodeJob,
  encodeSubmitReply,
  helloProofContext,
  type Job,
  type RecorderHello,
  type Submission,
} from '../../../shared/proof/messages.ts';
import { type CurveKeys, verifyKeyProof } from '../../../shared/zmq/curve.ts';
import { PubSocket } from '../../../shared/zmq/publisher.ts';
import { RequestServer } from '../../../shared/zmq/server.ts';
import { FAST } from '../zmq/helpers.ts';

export interface FakeNodeOptions {
  readonly jobsPort: number;
  readonly submitPort: number;
  readonly keys: CurveKeys;
  readonly params?: NetworkParams;
  /** Block target of the jobs it makes (default: 2^256 / 2^16, a block every ~65k hashes). */
  readonly target?: bigint;
  /** Share target (default: the block target, i.e. no shares). */
  readonly shareTarget?: bigint;
  readonly expirySeconds?: number;
  /** Re-publish each recorder's latest job this often (ms; default 200; 0 = never). */
  readonly republishMs?: number;
  /** Publish a fresh clean job after a hello and after each block (default true). */
  readonly autoJobs?: boolean;
  /** Node clock in seconds. */
  readonly clock?: () => number;
  /** Answer the first this-many submissions `error rate-limited` (default 0). */
  readonly rateLimitFirst?: number;
}

export interface SubmitRecord extends Submission {
  readonly recorder: string;
  readonly status: string;
}

export class FakeNode {
  readonly hellos: RecorderHello[] = [];
  readonly submissions: SubmitRecord[] = [];
  /** Submissions answered `error rate-limited`. */
  rateLimited = 0;
  readonly jobs = new Map<bigint, { job: Job; recorder: string }>();
  readonly #o: FakeNodeOptions;
  readonly #sessions = new Map<string, string>();
  readonly #latest = new Map<string, Job>();
  #pub: PubSocket | undefined;
  #server: RequestServer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #nextJobId = 1000n + BigInt(randomBytes(2).readUInt16LE(0)) * 1000n;
  readonly #clock: () => number;

  constructor(opts: FakeNodeOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? (() => Math.floor(Date.now() / 1000));
  }

  get jobsEndpoint(): string {
    return `tcp://127.0.0.1:${this.#o.jobsPort}`;
  }

  get submitEndpoint(): string {
    return `tcp://127.0.0.1:${this.#o.submitPort}`;
  }

  get params(): NetworkParams {
    return this.#o.params ?? LOCAL;
  }

  /** Recorders that said hello on a live connection. */
  get sessions(): number {
    return this.#sessions.size;
  }

  count(status: string): number {
    return this.submissions.filter((s) => s.status === status).length;
  }

  async start(): Promise<void> {
    const logger = silentLogger();
    this.#pub = new PubSocket(
      {
        endpoints: [this.jobsEndpoint],
        curve: { keys: this.#o.keys, zapDomain: 'proof' },
        heartbeat: FAST.heartbeat,
        lingerMs: 0,
      },
      { logger },
    );
    await this.#pub.bind();
    this.#server = new RequestServer(
      {
        endpoints: [this.submitEndpoint],
        keys: this.#o.keys,
        zapDomain: 'proof',
        heartbeat: FAST.heartbeat,
        lingerMs: 0,
        drainTimeoutMs: 100,
      },
      { logger },
    );
    await this.#server.start(async (req) => this.#handle(req.routingId.toString('hex'), req.frames));
    const every = this.#o.republishMs ?? 200;
    if (every > 0)
      this.#timer = setInterval(() => {
        for (const [recorder, job] of this.#latest) void this.publish(recorder, job);
      }, every);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#pub?.close();
    await this.#server?.stop();
    this.#pub = undefined;
    this.#server = undefined;
  }

  /** Forgets every session (as a restarted node would), keeping the sockets. */
  forgetSessions(): void {
    this.#sessions.clear();
  }

  /** Stops re-publishing jobs (until the next publish). */
  silence(): void {
    this.#latest.clear();
  }

  /** A new job for `recorder` (registered, so submissions for it are checked); not published. */
  makeJob(recorder: string, overrides: Partial<Job> = {}): Job {
    const target = this.#o.target ?? 1n << 240n;
    const job: Job = {
      jobId: this.#nextJobId++,
      height: 1,
      header: new Uint8Array(randomBytes(88)),
      target,
      shareTarget: this.#o.shareTarget ?? target,
      expires: this.#clock() + (this.#o.expirySeconds ?? 600),
      clean: true,
      ...overrides,
    };
    this.jobs.set(job.jobId, { job, recorder });
    return job;
  }

  /** Publishes `job` on `recorder`'s topic and makes it the one re-published. */
  async publish(recorder: string, job: Job): Promise<void> {
    this.#latest.set(recorder, job);
    await this.#pub?.publish(recorder, 'job', Buffer.from(encodeJob(job)));
  }

  /** Publishes raw frames (malformed messages). */
  async publishRaw(...frames: (Buffer | string)[]): Promise<void> {
    const [topic, ...rest] = frames;
    await this.#pub?.publish(topic!, ...rest);
  }

  #handle(id: string, frames: Buffer[]): (Buffer | string)[] {
    if (frames.length !== 2) return ['error', 'bad-frames', 'a request is command and payload'];
    const command = frames[0]!.toString('latin1');
    if (command === 'hello') return this.#hello(id, frames[1]!);
    const recorder = this.#sessions.get(id);
    if (recorder === undefined) return ['error', 'handshake-required', 'send hello first'];
    if (command !== 'submit') return ['error', 'unknown-command', command];
    if (this.rateLimited < (this.#o.rateLimitFirst ?? 0)) {
      this.rateLimited++;
      return ['error', 'rate-limited', 'too many submissions'];
    }
    const s = decodeSubmission(frames[1]!);
    const { status, hash } = this.#check(recorder, s);
    this.submissions.push({ ...s, recorder, status });
    if (status === 'ok' && (this.#o.autoJobs ?? true)) {
      const next = this.makeJob(recorder);
      setImmediate(() => void this.publish(recorder, next));
    }
    return ['ok', Buffer.from(encodeSubmitReply(status, hash))];
  }

  #hello(id: string, payload: Buffer): (Buffer | string)[] {
    const h = decodeRecorderHello(payload);
    if (!equalBytes(h.genesis, this.params.genesisHash)) return ['error', 'wrong-network', 'other network'];
    const key = z85Encode(h.recorderKey);
    const context = helloProofContext(h, z85Decode(this.#o.keys.publicKey));
    if (!verifyKeyProof(this.#o.keys.secretKey, key, context, h.proof))
      return ['error', 'bad-proof', 'the hello does not prove the key it claims'];
    this.hellos.push(h);
    this.#sessions.set(id, key);
    if (this.#o.autoJobs ?? true) {
      const job = this.makeJob(key);
      setImmediate(() => void this.publish(key, job));
    }
    return ['ok', Buffer.alloc(0)];
  }

  #check(
    recorder: string,
    s: Submission,
  ): { status: 'ok' | 'share' | 'stale' | 'invalid' | 'unknown-job'; hash?: Uint8Array } {
    const live = this.jobs.get(s.jobId);
    if (live === undefined || live.recorder !== recorder) return { status: 'unknown-job' };
    if (this.#clock() > live.job.expires) return { status: 'stale' };
    const header = Buffer.from(live.job.header);
    header.writeBigUInt64LE(s.nonce, NONCE_OFFSET);
    const hash = sha256d(header);
    if (hashMeetsTargetBytes(hash, targetToLeBytes(live.job.target))) return { status: 'ok', hash };
    if (hashMeetsTargetBytes(hash, targetToLeBytes(live.job.shareTarget))) return { status: 'share' };
    return { status: 'invalid' };
  }
}

/** A nonce (searched from `from`) whose header hash meets `target`, and that hash. */
export function solve(header: Uint8Array, target: bigint, from = 0n): { nonce: bigint; hash: Uint8Array } {
  const buf = Buffer.from(header);
  const le = targetToLeBytes(target);
  for (let n = from; ; n++) {
    buf.writeBigUInt64LE(n, NONCE_OFFSET);
    const hash = sha256d(buf);
    if (hashMeetsTargetBytes(hash, le)) return { nonce: n, hash };
  }
}
