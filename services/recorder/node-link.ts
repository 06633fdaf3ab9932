/**
 * NodeLink: the recorder's connection to one node's proof channel.
 *
 *   SUB  → the node's jobs PUB, CURVE client, subscribed to our own public key (Z85) as topic;
 *          messages are `topic | 'job' | encodeJob(job)`.
 *   REQ  → the node's submission ROUTER (RequestClient: Lazy Pirate on timeouts):
 *          `hello | encodeRecorderHello` → `ok | payload`, `submit | encodeSubmission` →
 *          `ok | encodeSubmitReply`, or `error | code | message`.
 *
 * The node publishes jobs only to recorders that said hello since it started, so the link says
 * hello: at start (once the SUB is connected, so the job the node publishes in answer is not
 * missed), whenever either socket reconnects (the node may have restarted), when a reply says
 * `handshake-required` (then the submission is sent once more), and when no job (new or
 * re-published) came for `silenceMs`. A failed hello is retried with backoff (1 s doubling to 30 s).
 *
 * Jobs: malformed messages (frame count, topic, kind, payload) are dropped with a rate-limited log
 * line. A job is submitted for only while the job book (job-book.ts) says it is valid: not expired
 * by our clock, not voided by a later clean job, not answered `stale`/`unknown-job`. Nothing is
 * ever sent for an expired job.
 *
 * Event `change`: the current job or the link's up/down state changed (the recorder then picks
 * what to mine).
 */
import { Subscriber } from 'zeromq';
import type { NetworkParams } from '../../shared/core/params/types.ts';
import { TypedEmitter } from '../../shared/events.ts';
import type { Logger } from '../../shared/log.ts';
import {
  decodeJob,
  decodeSubmitReply,
  encodeRecorderHello,
  encodeSubmission,
  type Job,
  type SubmitStatus,
} from '../../shared/proof/messages.ts';
import { VERSION } from '../../shared/version.ts';
import { RequestClient } from '../../shared/zmq/client.ts';
import { CURVE_MESSAGE_OVERHEAD, type CurveKeys, clientOptions } from '../../shared/zmq/curve.ts';
import { TransportError } from '../../shared/zmq/errors.ts';
import { LogLimiter } from '../../shared/zmq/log-limit.ts';
import { type HeartbeatOptions, heartbeatSocketOptions, isIpv6Endpoint } from '../../shared/zmq/options.ts';
import { makeRecorderHello } from './hello.ts';
import { type BookJob, JobBook } from './job-book.ts';

export interface NodeLinkOptions {
  /** Label in logs and stats. */
  readonly name: string;
  /** e.g. 'tcp://203.0.113.5:2138'. */
  readonly jobsEndpoint: string;
  /** e.g. 'tcp://203.0.113.5:2139'. */
  readonly submitEndpoint: string;
  /** The node's proof public key (Z85). */
  readonly nodeKey: string;
  readonly params: NetworkParams;
  /** Owner hash (20 bytes) the node pays our blocks to. */
  readonly payout: Uint8Array;
  readonly identity: CurveKeys;
  readonly userAgent?: string;
  /** Deadline of a hello or submission (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** No job at all for this long ⇒ hello again (default 20 s; the node re-publishes every few s). */
  readonly silenceMs?: number;
  /** First delay before a failed hello is retried (default 1 s; doubles up to 30 s). */
  readonly helloRetryMs?: number;
  readonly heartbeat?: HeartbeatOptions | false;
  readonly reconnectIntervalMs?: number;
  readonly reconnectMaxIntervalMs?: number;
}

export interface NodeLinkModules {
  readonly logger: Logger;
  /** Our clock in seconds (default: Date.now() / 1000, floored); compared with jobs' `expires`. */
  readonly clock?: () => number;
}

export interface LinkCounters {
  /** New jobs received. */
  jobs: number;
  /** Jobs received again (the node's periodic re-publication). */
  repeats: number;
  /** Messages dropped as malformed. */
  malformed: number;
  /** Jobs that had already expired by our clock when they arrived. */
  expiredOnArrival: number;
  hellos: number;
  helloFailures: number;
  /** Submissions answered ok (a block). */
  blocks: number;
  shares: number;
  /** Answered stale or unknown-job. */
  stale: number;
  /** Answered invalid. */
  invalid: number;
  /** Answered with an error (rate-limited, malformed...). */
  rejected: number;
  /** Not sent: the job had expired or was void. */
  notSent: number;
  /** No answer (timeout) or the link closed. */
  failed: number;
}

export type SubmitOutcome =
  | { readonly status: SubmitStatus; readonly blockHash?: Uint8Array }
  | { readonly status: 'not-sent'; readonly reason: string }
  | { readonly status: 'rejected'; readonly code: string; readonly message: string }
  | { readonly status: 'failed'; readonly error: Error };

export interface NodeLinkEvents {
  change: [];
}

const MAX_HELLO_RETRY_MS = 30_000;
const JOB_FRAME_MAX = 64 * 1024;

export class NodeLink extends TypedEmitter<NodeLinkEvents> {
  readonly name: string;
  readonly counters: LinkCounters = {
    jobs: 0,
    repeats: 0,
    malformed: 0,
    expiredOnArrival: 0,
    hellos: 0,
    helloFailures: 0,
    blocks: 0,
    shares: 0,
    stale: 0,
    invalid: 0,
    rejected: 0,
    notSent: 0,
    failed: 0,
  };
  readonly #o: Required<Omit<NodeLinkOptions, 'heartbeat'>> & {
    heartbeat: HeartbeatOptions | false | undefined;
  };
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #limiter = new LogLimiter({ intervalMs: 60_000 });
  readonly #book = new JobBook();
  readonly #topic: Buffer;
  #client: RequestClient | null = null;
  #sub: Subscriber | null = null;
  #loop: Promise<void> | null = null;
  #started = false;
  #stopped = false;
  #ready = false;
  #subConnected = false;
  #subEverConnected = false;
  #everReady = false;
  #helloInFlight: Promise<boolean> | null = null;
  #helloTimer: NodeJS.Timeout | undefined;
  #helloDelay: number;
  #watchdog: NodeJS.Timeout | undefined;
  #lastJobAt = 0;
  #current: bigint | undefined;

  constructor(opts: NodeLinkOptions, modules: NodeLinkModules) {
    super();
    this.name = opts.name;
    this.#o = {
      ...opts,
      userAgent: opts.userAgent ?? `cairn-recorder/${VERSION}`,
      requestTimeoutMs: opts.requestTimeoutMs ?? 5_000,
      silenceMs: opts.silenceMs ?? 20_000,
      helloRetryMs: opts.helloRetryMs ?? 1_000,
      heartbeat: opts.heartbeat,
      reconnectIntervalMs: opts.reconnectIntervalMs ?? 100,
      reconnectMaxIntervalMs: opts.reconnectMaxIntervalMs ?? 5_000,
    };
    clientOptions(opts.identity, opts.nodeKey); // validates both keys now
    heartbeatSocketOptions(opts.heartbeat);
    this.#helloDelay = this.#o.helloRetryMs;
    this.#log = modules.logger.child({ node: opts.name });
    this.#clock = modules.clock ?? (() => Math.floor(Date.now() / 1000));
    this.#topic = Buffer.from(opts.identity.publicKey, 'latin1');
  }

  /** Hello acknowledged and the job stream connected. */
  get up(): boolean {
    return this.#ready && this.#subConnected;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** The newest job that may still be submitted, if any. */
  current(): BookJob | undefined {
    return this.#book.current(this.#clock());
  }

  /** True when `jobId` may still be submitted. */
  isValid(jobId: bigint): boolean {
    return this.#book.valid(jobId, this.#clock()) !== undefined;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const o = this.#o;
    this.#client = new RequestClient(
      {
        endpoint: o.submitEndpoint,
        keys: o.identity,
        serverKey: o.nodeKey,
        maxMessageSize: 4096,
        heartbeat: o.heartbeat,
        reconnectIntervalMs: o.reconnectIntervalMs,
        reconnectMaxIntervalMs: o.reconnectMaxIntervalMs,
        defaultTimeoutMs: o.requestTimeoutMs,
        maxQueued: 256,
      },
      { logger: this.#log },
    );
    this.#client.on('reconnect', ({ cause }) => {
      if (cause === 'transport') this.#lost('the submission connection was re-established');
    });
    const sub = new Subscriber({
      ...clientOptions(o.identity, o.nodeKey),
      ...heartbeatSocketOptions(o.heartbeat),
      ipv6: isIpv6Endpoint(o.jobsEndpoint),
      maxMessageSize: JOB_FRAME_MAX + CURVE_MESSAGE_OVERHEAD,
      receiveHighWaterMark: 1_000,
      reconnectInterval: o.reconnectIntervalMs,
      reconnectMaxInterval: o.reconnectMaxIntervalMs,
      linger: 0,
    });
    sub.events.on('handshake', () => {
      if (this.#stopped) return;
      const again = this.#subEverConnected;
      this.#subConnected = true;
      this.#subEverConnected = true;
      if (again && this.#limiter.allow('up'))
        this.#log.info(
          { suppressed: this.#limiter.takeSuppressed() },
          `job stream of ${this.name} reconnected`,
        );
      // Say hello now that the subscription is in place: the node answers a hello with a job.
      if (again) this.#lost('the job stream reconnected');
      else void this.#hello();
      this.emit('change');
    });
    sub.events.on('disconnect', () => {
      if (this.#stopped || !this.#subConnected) return;
      this.#subConnected = false;
      if (this.#limiter.allow('down'))
        this.#log.warn(
          { suppressed: this.#limiter.takeSuppressed() },
          `lost the job stream of ${this.name}; reconnecting`,
        );
      this.emit('change');
    });
    sub.events.on('handshake:error:auth', (ev) => {
      if (this.#limiter.allow('refused'))
        this.#log.error(
          { status: ev.error.status, key: o.identity.publicKey, suppressed: this.#limiter.takeSuppressed() },
          `${this.name} refused our key: add it to the node's proof.recorders`,
        );
    });
    sub.connect(o.jobsEndpoint);
    sub.subscribe(this.#topic);
    this.#sub = sub;
    this.#loop = this.#receive(sub);
    // If the job stream does not come up soon (node down), say hello anyway so errors show.
    this.#scheduleHello(2_000);
    this.#lastJobAt = Date.now();
    this.#watchdog = setInterval(() => this.#tick(), 1_000);
    this.#watchdog.unref();
  }

  /** Closes both sockets at once (nothing worth lingering for); pending submissions fail. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#helloTimer);
    clearInterval(this.#watchdog);
    this.#client?.close();
    const sub = this.#sub;
    if (sub !== null && !sub.closed) sub.close();
    await this.#loop;
    this.#ready = false;
    this.#subConnected = false;
  }

  /**
   * Submits a nonce for one of this node's jobs. Never sends for a job that expired or became
   * void; after `handshake-required` says hello and sends once more.
   */
  async submit(jobId: bigint, nonce: bigint): Promise<SubmitOutcome> {
    if (!this.isValid(jobId)) {
      this.counters.notSent++;
      return { status: 'not-sent', reason: 'the job expired or was replaced by a clean job' };
    }
    let out = await this.#send(jobId, nonce);
    if (out.status === 'rejected' && out.code === 'handshake-required') {
      this.#setReady(false);
      if (!(await this.#hello())) {
        this.counters.failed++;
        return { status: 'failed', error: new Error(`no hello with ${this.name}`) };
      }
      if (!this.isValid(jobId)) {
        this.counters.notSent++;
        return { status: 'not-sent', reason: 'the job expired while saying hello again' };
      }
      out = await this.#send(jobId, nonce);
    }
    this.#count(jobId, out);
    return out;
  }

  async #send(jobId: bigint, nonce: bigint): Promise<SubmitOutcome> {
    const client = this.#client;
    if (client === null || this.#stopped)
      return { status: 'failed', error: new TransportError('transport-closed', 'link stopped') };
    let frames: Buffer[];
    try {
      frames = await client.request(['submit', Buffer.from(encodeSubmission({ jobId, nonce }))]);
    } catch (error) {
      return { status: 'failed', error: error as Error };
    }
    const status = frames[0]?.toString('latin1');
    if (status === 'ok' && frames.length === 2) {
      try {
        return decodeSubmitReply(frames[1]!);
      } catch (e) {
        return { status: 'rejected', code: 'malformed-reply', message: (e as Error).message };
      }
    }
    if (status === 'error' && frames.length >= 2)
      return { status: 'rejected', code: frames[1]!.toString(), message: frames[2]?.toString() ?? '' };
    return { status: 'rejected', code: 'malformed-reply', message: `${frames.length} frames` };
  }

  #count(jobId: bigint, out: SubmitOutcome): void {
    const c = this.counters;
    switch (out.status) {
      case 'ok':
        c.blocks++;
        break;
      case 'share':
        c.shares++;
        break;
      case 'stale':
      case 'unknown-job':
        c.stale++;
        this.#kill(jobId);
        break;
      case 'invalid':
        c.invalid++;
        break;
      case 'rejected':
        c.rejected++;
        if (this.#limiter.allow(`rejected\n${out.code}`))
          this.#log.warn(
            { code: out.code, suppressed: this.#limiter.takeSuppressed() },
            `${this.name} rejected a submission: ${out.code} ${out.message}`,
          );
        break;
      case 'failed':
        // cut off by our own stop: not the node's failure
        if (this.#stopped) break;
        c.failed++;
        if (this.#limiter.allow('failed'))
          this.#log.warn(
            { err: out.error.message, suppressed: this.#limiter.takeSuppressed() },
            `submission to ${this.name} failed`,
          );
        break;
      case 'not-sent':
        c.notSent++;
        break;
    }
  }

  #kill(jobId: bigint): void {
    this.#book.kill(jobId);
    this.#changed();
  }

  // ---- hello ----

  #hello(): Promise<boolean> {
    this.#helloInFlight ??= this.#doHello().finally(() => {
      this.#helloInFlight = null;
    });
    return this.#helloInFlight;
  }

  async #doHello(): Promise<boolean> {
    clearTimeout(this.#helloTimer);
    const client = this.#client;
    if (client === null || this.#stopped) return false;
    const o = this.#o;
    this.counters.hellos++;
    const hello = makeRecorderHello(o.params, o.identity, o.nodeKey, o.payout, o.userAgent, this.#clock());
    let problem: string;
    try {
      const frames = await client.request(['hello', Buffer.from(encodeRecorderHello(hello))]);
      const status = frames[0]?.toString('latin1');
      if (status === 'ok') {
        this.#helloDelay = o.helloRetryMs;
        this.#lastJobAt = Date.now();
        if (!this.#everReady) this.#log.info({ key: o.nodeKey }, `connected to ${this.name}`);
        else this.#log.debug('hello acknowledged');
        this.#everReady = true;
        this.#setReady(true);
        return true;
      }
      problem =
        status === 'error'
          ? `${frames[1]?.toString() ?? '?'}: ${frames[2]?.toString() ?? ''}`
          : `malformed reply (${frames.length} frames)`;
    } catch (e) {
      if (this.#stopped) return false;
      problem = (e as Error).message;
    }
    this.counters.helloFailures++;
    this.#setReady(false);
    if (this.#limiter.allow(`hello\n${problem.split(':')[0]}`))
      this.#log.warn(
        { retryInMs: this.#helloDelay, suppressed: this.#limiter.takeSuppressed() },
        `hello to ${this.name} failed: ${problem}`,
      );
    this.#scheduleHello(this.#helloDelay);
    this.#helloDelay = Math.min(this.#helloDelay * 2, MAX_HELLO_RETRY_MS);
    return false;
  }

  #scheduleHello(delayMs: number): void {
    clearTimeout(this.#helloTimer);
    this.#helloTimer = setTimeout(() => {
      if (!this.#ready && !this.#stopped) void this.#hello();
    }, delayMs);
    this.#helloTimer.unref();
  }

  /** The node may have forgotten us (restart): hello again. */
  #lost(why: string): void {
    if (this.#stopped) return;
    this.#log.debug(`${why}: saying hello again`);
    this.#setReady(false);
    void this.#hello();
  }

  #setReady(ready: boolean): void {
    if (this.#ready === ready) return;
    this.#ready = ready;
    this.emit('change');
  }

  // ---- jobs ----

  async #receive(sub: Subscriber): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await sub.receive();
      } catch (err) {
        if (this.#stopped || sub.closed) return;
        if (this.#limiter.allow('receive'))
          this.#log.error({ err, suppressed: this.#limiter.takeSuppressed() }, 'job stream: receive failed');
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      this.#onMessage(frames);
    }
  }

  #onMessage(frames: Buffer[]): void {
    const job = this.#parse(frames);
    if (job === undefined) return;
    this.#lastJobAt = Date.now();
    const added = this.#book.add(job, this.#clock(), performance.now());
    if (added === 'repeat') {
      this.counters.repeats++;
      return;
    }
    if (added === 'expired') {
      this.counters.expiredOnArrival++;
      if (this.#limiter.allow('expired'))
        this.#log.warn(
          { jobId: job.jobId.toString(), expires: job.expires, now: this.#clock() },
          `a job from ${this.name} had expired on arrival: check both clocks`,
        );
      return;
    }
    this.counters.jobs++;
    this.#log.debug({ jobId: job.jobId.toString(), height: job.height, clean: job.clean }, 'new job');
    this.#changed();
  }

  /** The job in a message, or undefined (logged and counted) when the message is malformed. */
  #parse(frames: Buffer[]): Job | undefined {
    let why: string;
    if (frames.length !== 3) why = `${frames.length} frames (expected 3)`;
    else if (!frames[0]!.equals(this.#topic)) why = 'another recorder’s topic';
    else if (frames[1]!.toString('latin1') !== 'job') why = 'not a job message';
    else {
      try {
        return decodeJob(frames[2]!);
      } catch (e) {
        why = (e as Error).message;
      }
    }
    this.#malformed(why);
    return undefined;
  }

  #malformed(why: string): void {
    this.counters.malformed++;
    if (this.#limiter.allow(`malformed\n${why}`))
      this.#log.warn(
        { reason: why, suppressed: this.#limiter.takeSuppressed() },
        `dropped a malformed job message from ${this.name}`,
      );
  }

  /** Emits `change` when the current job differs from the last one announced. */
  #changed(): void {
    const id = this.current()?.job.jobId;
    if (id === this.#current) return;
    this.#current = id;
    this.emit('change');
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#changed(); // expiry
    if (this.#ready && Date.now() - this.#lastJobAt > this.#o.silenceMs) {
      this.#lastJobAt = Date.now();
      this.#lost(`no job from ${this.name} for ${this.#o.silenceMs / 1000} s`);
    }
  }
}
