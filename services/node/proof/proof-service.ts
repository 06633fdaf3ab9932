/**
 * The node side of the proof channel: per-recorder jobs on a PUB socket (topic = recorder key),
 * submissions on a ROUTER, both CURVE behind the ZAP allow-list of recorder keys. A recorder says
 * hello (with a proof it holds its key, and its payout address); the node builds that recorder's
 * coinbase. New tip ⇒ new clean jobs at once; a better pool ⇒ a new job (rate-limited); jobs stay
 * valid until the tip moves or they expire. The first valid solution becomes a block through the
 * normal chain path (and so is relayed to peers).
 */
import { randomBytes } from 'node:crypto';
import { encodeBlock } from '../../../shared/core/block/codec.ts';
import { encodeHeader } from '../../../shared/core/block/header.ts';
import { NONCE_OFFSET } from '../../../shared/core/block/types.ts';
import { equalBytes, hashToHex } from '../../../shared/core/bytes.ts';
import { DecodeError } from '../../../shared/core/errors.ts';
import { sha256d } from '../../../shared/core/hash.ts';
import { hashMeetsTargetBytes, targetToLeBytes, workFromTarget } from '../../../shared/core/pow/compact.ts';
import { z85Decode, z85Encode } from '../../../shared/identity/z85.ts';
import type { Logger } from '../../../shared/log.ts';
import {
  decodeRecorderHello,
  decodeSubmission,
  encodeJob,
  encodeSubmitReply,
  helloProofContext,
  type Job,
  PROOF_VERSION,
  type SubmitStatus,
} from '../../../shared/proof/messages.ts';
import { TokenBucket } from '../../../shared/token-bucket.ts';
import type { CurveKeys } from '../../../shared/zmq/curve.ts';
import { verifyKeyProof } from '../../../shared/zmq/curve.ts';
import { PubSocket } from '../../../shared/zmq/publisher.ts';
import { RequestServer } from '../../../shared/zmq/server.ts';
import type { ZapHandler } from '../../../shared/zmq/zap.ts';
import type { ChainState } from '../chain-state.ts';
import type { BlockTemplate } from '../mining/template.ts';
import { WorkWindow } from './work-window.ts';

export const PROOF_ZAP_DOMAIN = 'proof';

export interface ProofOptions {
  readonly jobsListen: readonly string[];
  readonly submitListen: readonly string[];
  readonly recorders: readonly string[];
  readonly shareBits: number;
  readonly jobExpirySeconds: number;
  /** Least time between two non-clean job refreshes caused by new pool transactions (ms). */
  readonly refreshMs?: number;
  /** Submissions per second per recorder, and burst (default 1,000 and 2,000). */
  readonly submitRate?: { perSecond: number; burst: number };
  /** The current job is published again this often, for recorders that just (re)connected (ms). */
  readonly republishMs?: number;
}

export interface ProofModules {
  readonly state: ChainState;
  readonly identity: CurveKeys;
  readonly zap: ZapHandler;
  readonly logger: Logger;
  readonly clock: () => number;
}

interface RecorderSession {
  readonly key: string;
  payout: Uint8Array;
  userAgent: string;
  connectedAt: number;
  lastSeen: number;
  blocks: number;
  shares: number;
  stale: number;
  invalid: number;
  /** Work proven by shares and blocks over the last minutes (the hash-rate estimate). */
  recent: WorkWindow;
  bucket: TokenBucket;
}

interface LiveJob {
  readonly job: Job;
  readonly recorder: string;
  readonly template: BlockTemplate;
  readonly header: Buffer;
  readonly targetLe: Uint8Array;
  readonly shareLe: Uint8Array;
}

export interface RecorderStats {
  readonly key: string;
  readonly payout: Uint8Array;
  readonly blocks: number;
  readonly shares: number;
  readonly stale: number;
  readonly invalid: number;
  /** Estimated hashes per second: the work of its shares and blocks over the last 5 minutes. */
  readonly hashrate: number;
}

const MAX_JOBS_PER_RECORDER = 16;

export class ProofService {
  readonly #o: ProofOptions;
  readonly #m: ProofModules;
  readonly #log: Logger;
  readonly #sessions = new Map<string, string>(); // routing id hex → recorder key
  readonly #recorders = new Map<string, RecorderSession>();
  readonly #jobs = new Map<bigint, LiveJob>();
  readonly #nonces = new Set<string>();
  #pub: PubSocket | undefined;
  #server: RequestServer | undefined;
  #nextJobId = BigInt(`0x${randomBytes(4).toString('hex')}`) << 24n;
  #refreshTimer: NodeJS.Timeout | undefined;
  #republish: NodeJS.Timeout | undefined;
  #lastRefresh = 0;
  readonly #onTip = () => this.#newTip();
  readonly #onTx = () => this.#scheduleRefresh();

  constructor(opts: ProofOptions, modules: ProofModules) {
    this.#o = opts;
    this.#m = modules;
    this.#log = modules.logger;
  }

  async start(): Promise<void> {
    this.#m.zap.setPolicy(PROOF_ZAP_DOMAIN, { allow: new Set(this.#o.recorders) });
    this.#pub = new PubSocket(
      {
        endpoints: this.#o.jobsListen.map((a) => `tcp://${a}`),
        curve: { keys: this.#m.identity, zapDomain: PROOF_ZAP_DOMAIN },
      },
      { logger: this.#log },
    );
    await this.#pub.bind();
    this.#server = new RequestServer(
      {
        endpoints: this.#o.submitListen.map((a) => `tcp://${a}`),
        keys: this.#m.identity,
        zapDomain: PROOF_ZAP_DOMAIN,
        maxMessageSize: 4096,
      },
      { logger: this.#log },
    );
    await this.#server.start(async (req) => this.#handle(req.routingId.toString('hex'), req.frames));
    this.#m.state.chain.on('tip', this.#onTip);
    this.#m.state.reservoir.on('tx:added', this.#onTx);
    this.#republish = setInterval(() => this.#publishAll(false), this.#o.republishMs ?? 3000);
    this.#republish.unref();
    this.#log.info(
      {
        jobs: this.#o.jobsListen,
        submit: this.#o.submitListen,
        recorders: this.#o.recorders.length,
        key: this.#m.identity.publicKey,
      },
      `proof channel: jobs on ${this.#o.jobsListen.join(', ')}, submissions on ${this.#o.submitListen.join(', ')} (${this.#o.recorders.length} recorders allowed)`,
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.#republish);
    clearTimeout(this.#refreshTimer);
    this.#m.state.chain.off('tip', this.#onTip);
    this.#m.state.reservoir.off('tx:added', this.#onTx);
    await this.#server?.stop();
    this.#pub?.close();
  }

  /** Per-recorder counters and hash-rate estimates (for getmininginfo). */
  stats(): RecorderStats[] {
    const now = this.#m.clock();
    return [...this.#recorders.values()].map((r) => ({
      key: r.key,
      payout: r.payout,
      blocks: r.blocks,
      shares: r.shares,
      stale: r.stale,
      invalid: r.invalid,
      hashrate: r.recent.rate(now, now - r.connectedAt),
    }));
  }

  // ---- requests ----

  async #handle(id: string, frames: Buffer[]): Promise<(Buffer | string)[]> {
    if (frames.length !== 2) return ['error', 'bad-frames', 'a request is command and payload'];
    const command = frames[0]!.toString('latin1');
    try {
      if (command === 'hello') return this.#hello(id, frames[1]!);
      const key = this.#sessions.get(id);
      if (key === undefined) return ['error', 'handshake-required', 'send hello first'];
      const r = this.#recorders.get(key)!;
      r.lastSeen = this.#m.clock();
      if (command !== 'submit') return ['error', 'unknown-command', 'unknown command'];
      if (!r.bucket.take(1, Date.now())) return ['error', 'rate-limited', 'too many submissions'];
      const { status, hash } = this.#submit(r, frames[1]!);
      return ['ok', Buffer.from(encodeSubmitReply(status, hash))];
    } catch (e) {
      if (e instanceof DecodeError) {
        this.#log.warn({ err: e.message }, `malformed ${command.slice(0, 16)} from a recorder`);
        return ['error', 'malformed', e.message];
      }
      throw e;
    }
  }

  #hello(id: string, payload: Buffer): (Buffer | string)[] {
    const h = decodeRecorderHello(payload);
    const p = this.#m.state.params;
    if (!equalBytes(h.genesis, p.genesisHash)) return ['error', 'wrong-network', `this node is on ${p.name}`];
    if (h.version !== PROOF_VERSION)
      return ['error', 'incompatible-version', `proof protocol ${PROOF_VERSION} only`];
    const key = z85Encode(h.recorderKey);
    const now = this.#m.clock();
    if (Math.abs(h.time - now) > 600)
      return ['error', 'clock-skew', 'recorder clock is more than 10 minutes off'];
    const nonceKey = `${key}${Buffer.from(h.nonce).toString('hex')}`;
    const context = helloProofContext(h, z85Decode(this.#m.identity.publicKey));
    if (this.#nonces.has(nonceKey) || !verifyKeyProof(this.#m.identity.secretKey, key, context, h.proof)) {
      this.#log.warn({ recorder: key }, 'recorder hello with a bad key proof refused');
      return ['error', 'bad-proof', 'the hello does not prove the key it claims'];
    }
    if (!this.#o.recorders.includes(key))
      return ['error', 'not-allowed', 'this recorder key is not on the allow-list'];
    this.#nonces.add(nonceKey);
    if (this.#nonces.size > 10_000) this.#nonces.delete(this.#nonces.values().next().value!);
    this.#sessions.set(id, key);
    let r = this.#recorders.get(key);
    if (r === undefined) {
      r = {
        key,
        payout: h.payout,
        userAgent: h.userAgent,
        connectedAt: now,
        lastSeen: now,
        blocks: 0,
        shares: 0,
        stale: 0,
        invalid: 0,
        recent: new WorkWindow(),
        bucket: new TokenBucket(
          this.#o.submitRate?.perSecond ?? 1000,
          this.#o.submitRate?.burst ?? 2000,
          Date.now(),
        ),
      };
      this.#recorders.set(key, r);
    }
    r.payout = h.payout;
    r.userAgent = h.userAgent;
    this.#log.info({ recorder: key, agent: h.userAgent }, `recorder ${key.slice(0, 8)}… connected`);
    this.#publishFor(r, true);
    return ['ok', Buffer.alloc(0)];
  }

  #submit(r: RecorderSession, payload: Buffer): { status: SubmitStatus; hash?: Uint8Array } {
    const s = decodeSubmission(payload);
    const live = this.#jobs.get(s.jobId);
    if (live === undefined || live.recorder !== r.key) return { status: 'unknown-job' };
    const chain = this.#m.state.chain;
    if (!equalBytes(live.template.header.prevHash, chain.tip.hash) || this.#m.clock() > live.job.expires) {
      r.stale++;
      return { status: 'stale' };
    }
    const header = Buffer.from(live.header);
    header.writeBigUInt64LE(s.nonce, NONCE_OFFSET);
    const hash = sha256d(header);
    if (hashMeetsTargetBytes(hash, live.targetLe)) {
      const raw = encodeBlock({ ...live.template.header, nonce: s.nonce }, live.template.txs);
      const result = chain.processBlock(raw);
      if (result.status === 'connected' || result.status === 'side') {
        r.blocks++;
        r.recent.add(workFromTarget(live.job.target), this.#m.clock());
        this.#log.info(
          { recorder: r.key, height: live.job.height, hash: hashToHex(hash) },
          `recorder ${r.key.slice(0, 8)}… found block ${live.job.height}`,
        );
        return { status: 'ok', hash };
      }
      if (result.status === 'duplicate') {
        r.stale++;
        return { status: 'stale' };
      }
      r.invalid++;
      this.#log.error({ recorder: r.key, err: result.error?.message }, 'a solved template did not connect');
      return { status: 'invalid' };
    }
    if (this.#o.shareBits > 0 && hashMeetsTargetBytes(hash, live.shareLe)) {
      r.shares++;
      r.recent.add(workFromTarget(live.job.shareTarget), this.#m.clock());
      return { status: 'share' };
    }
    r.invalid++;
    return { status: 'invalid' };
  }

  // ---- jobs ----

  #newTip(): void {
    // older jobs stay known (bounded per recorder) so late solutions get a precise `stale`
    this.#publishAll(true);
  }

  #scheduleRefresh(): void {
    if (this.#refreshTimer !== undefined) return;
    const wait = Math.max(0, this.#lastRefresh + (this.#o.refreshMs ?? 2000) - Date.now());
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      this.#lastRefresh = Date.now();
      this.#publishAll(false, true);
    }, wait);
    this.#refreshTimer.unref();
  }

  /** Publishes each connected recorder's current job (a fresh one when `fresh` or none exists). */
  #publishAll(clean: boolean, fresh = clean): void {
    const idle = this.#m.clock() - 3600;
    for (const r of this.#recorders.values()) {
      if (r.lastSeen < idle) continue;
      this.#publishFor(r, clean, fresh);
    }
  }

  #publishFor(r: RecorderSession, clean: boolean, fresh = true): void {
    let live = fresh ? undefined : this.#latestJob(r.key);
    if (live === undefined) live = this.#makeJob(r, clean);
    if (live === undefined || this.#pub === undefined) return;
    void this.#pub
      .publish(r.key, 'job', encodeJob(live.job))
      .catch((e) => this.#log.debug({ err: (e as Error).message }, 'job publish failed'));
  }

  #latestJob(key: string): LiveJob | undefined {
    let latest: LiveJob | undefined;
    for (const j of this.#jobs.values())
      if (j.recorder === key && (latest === undefined || j.job.jobId > latest.job.jobId)) latest = j;
    return latest;
  }

  #makeJob(r: RecorderSession, clean: boolean): LiveJob | undefined {
    const state = this.#m.state;
    let template: BlockTemplate;
    try {
      template = state.template({
        payouts: [{ owner: r.payout }],
        coinbaseData: new TextEncoder().encode(`cairn/${r.key.slice(0, 8)}`),
      });
    } catch (e) {
      this.#log.error({ err: (e as Error).message }, 'could not build a block template');
      return undefined;
    }
    const jobId = this.#nextJobId++;
    const limit = state.params.powLimit;
    const shareTarget =
      this.#o.shareBits > 0 ? minBig(template.target << BigInt(this.#o.shareBits), limit) : template.target;
    const job: Job = {
      jobId,
      height: template.height,
      header: encodeHeader(template.header),
      target: template.target,
      shareTarget,
      expires: this.#m.clock() + this.#o.jobExpirySeconds,
      clean,
    };
    const live: LiveJob = {
      job,
      recorder: r.key,
      template,
      header: Buffer.from(job.header),
      targetLe: targetToLeBytes(job.target),
      shareLe: targetToLeBytes(shareTarget),
    };
    this.#jobs.set(jobId, live);
    // keep a few recent jobs per recorder: a solution for a slightly older template still counts
    const mine = [...this.#jobs.values()].filter((j) => j.recorder === r.key);
    for (const old of mine.slice(0, Math.max(0, mine.length - MAX_JOBS_PER_RECORDER)))
      this.#jobs.delete(old.job.jobId);
    return live;
  }
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
