/**
 * Recorder: mines for one or several nodes. One NodeLink per node (node-link.ts), one Hasher
 * (hasher.ts) shared by all of them: the hasher works on one job at a time and the recorder
 * chooses which.
 *
 * Choice (`strategy`):
 *   - 'latest' (default): the most recent job of any node whose link is up (hello acknowledged,
 *     job stream connected); if none is up, the most recent valid job of any node (its node may
 *     come back before the job expires).
 *   - 'round-robin': the nodes with a valid job take turns, `rotateMs` each (default 30 s);
 *     within a turn, that node's newest job.
 * A node that goes away stops being chosen as soon as its link reports it down, so the workers
 * keep mining for the others. When no node has a valid job the workers sleep.
 *
 * Solutions go to the node of their job. After a block the job stays paused (the node answers
 * with a new job); if the node refused it for now (rate limit) or did not answer, the job resumes
 * after `resumeDelayMs` when it is still the current one. One info line per `statsIntervalMs`
 * (default 30 s): hash rate and accepted/stale/rejected counts; blocks found at info (at most one
 * line a second per node: `local` makes a block every few hashes), shares at debug.
 */
import { availableParallelism } from 'node:os';
import { hashToHex } from '../../shared/core/bytes.ts';
import type { Logger } from '../../shared/log.ts';
import type { Job } from '../../shared/proof/messages.ts';
import { LogLimiter } from '../../shared/zmq/log-limit.ts';
import { type Found, Hasher, type HasherOptions } from './hasher.ts';
import { type LinkCounters, NodeLink, type NodeLinkOptions } from './node-link.ts';

export type Strategy = 'latest' | 'round-robin';

export interface RecorderOptions {
  /** One entry per node; identity-independent link settings. */
  readonly nodes: readonly NodeLinkOptions[];
  /** Hash workers; -1 = every core. */
  readonly workers: number;
  readonly cpuPercent?: number;
  readonly strategy?: Strategy;
  readonly rotateMs?: number;
  readonly statsIntervalMs?: number;
  /** Wait before hashing on after the node refused (rate limit) or did not answer a block (default 1 s). */
  readonly resumeDelayMs?: number;
  /** Hasher tuning (tests). */
  readonly hasher?: Omit<HasherOptions, 'workers' | 'cpuPercent'>;
}

export interface RecorderModules {
  readonly logger: Logger;
  readonly clock?: () => number;
}

/** What the hasher's jobs carry: the node and its job. */
export interface JobTag {
  readonly link: NodeLink;
  readonly job: Job;
}

export interface RecorderStats {
  /** Hashes per second since the previous stats log line (or the start). */
  readonly hashrate: number;
  readonly hashes: number;
  readonly workers: number;
  readonly nodes: readonly { name: string; up: boolean; counters: Readonly<LinkCounters> }[];
  readonly accepted: number;
  readonly stale: number;
  readonly rejected: number;
}

export class Recorder {
  readonly hasher: Hasher<JobTag>;
  readonly links: readonly NodeLink[];
  readonly #o: RecorderOptions;
  readonly #log: Logger;
  /** Block lines: at most one a second per node. */
  readonly #blockLines = new LogLimiter({ intervalMs: 1_000 });
  /** Blocks a node did not take: one line a minute per node and reason. */
  readonly #lostLines = new LogLimiter({ intervalMs: 60_000 });
  readonly #timers = new Set<NodeJS.Timeout>();
  #statsTimer: NodeJS.Timeout | undefined;
  #rotateTimer: NodeJS.Timeout | undefined;
  #mining: JobTag | undefined;
  #turn = 0;
  #turnStarted = 0;
  #lastStats = { at: 0, hashes: 0 };
  #started = false;

  constructor(opts: RecorderOptions, modules: RecorderModules) {
    if (opts.nodes.length === 0) throw new Error('a recorder needs at least one node');
    this.#o = opts;
    this.#log = modules.logger;
    const workers = opts.workers === -1 ? availableParallelism() : opts.workers;
    this.hasher = new Hasher<JobTag>(
      { ...opts.hasher, workers, cpuPercent: opts.cpuPercent ?? 100 },
      { logger: modules.logger.child({ module: 'hasher' }) },
    );
    this.links = opts.nodes.map(
      (n) =>
        new NodeLink(n, {
          logger: modules.logger.child({ module: 'link' }),
          ...(modules.clock === undefined ? {} : { clock: modules.clock }),
        }),
    );
    for (const link of this.links) link.on('change', () => this.#select());
    this.hasher.on('found', (f) => void this.#onFound(f));
    this.hasher.on('exhausted', ({ job, worker }) =>
      this.#log.warn(
        { node: job.tag.link.name, jobId: job.tag.job.jobId.toString(), worker },
        'a worker searched its whole nonce range; it waits for the next job',
      ),
    );
  }

  /** The job being mined, if any. */
  get mining(): JobTag | undefined {
    return this.#mining;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.hasher.start();
    for (const link of this.links) link.start();
    this.#lastStats = { at: performance.now(), hashes: 0 };
    this.#statsTimer = setInterval(() => this.#logStats(), this.#o.statsIntervalMs ?? 30_000);
    this.#statsTimer.unref();
    if (this.#o.strategy === 'round-robin') {
      this.#rotateTimer = setInterval(() => this.#select(), Math.min(1_000, this.#o.rotateMs ?? 30_000));
      this.#rotateTimer.unref();
    }
    this.#log.info(
      {
        workers: this.hasher.workers,
        cpuPercent: this.hasher.cpuPercent,
        nodes: this.links.map((l) => l.name),
        strategy: this.#o.strategy ?? 'latest',
      },
      `recorder started: ${this.hasher.workers} hash workers for ${this.links.length} node(s)`,
    );
  }

  /** Stops the links (sockets closed at once), then the workers. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearInterval(this.#statsTimer);
    clearInterval(this.#rotateTimer);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.all(this.links.map((l) => l.stop()));
    await this.hasher.stop();
    this.#logStats();
    this.#log.info('recorder stopped');
  }

  stats(): RecorderStats {
    const now = performance.now();
    const h = this.hasher.stats();
    const dt = (now - this.#lastStats.at) / 1000;
    const hashrate = this.#lastStats.at === 0 || dt <= 0 ? 0 : (h.total - this.#lastStats.hashes) / dt;
    let accepted = 0;
    let stale = 0;
    let rejected = 0;
    for (const l of this.links) {
      const c = l.counters;
      accepted += c.blocks + c.shares;
      stale += c.stale + c.notSent;
      rejected += c.invalid + c.rejected;
    }
    return {
      hashrate,
      hashes: h.total,
      workers: this.hasher.workers,
      nodes: this.links.map((l) => ({ name: l.name, up: l.up, counters: { ...l.counters } })),
      accepted,
      stale,
      rejected,
    };
  }

  #logStats(): void {
    const s = this.stats();
    this.#lastStats = { at: performance.now(), hashes: s.hashes };
    this.#log.info(
      {
        hashrate: Math.round(s.hashrate),
        accepted: s.accepted,
        stale: s.stale,
        rejected: s.rejected,
        nodes: s.nodes.map((n) => ({
          name: n.name,
          up: n.up,
          blocks: n.counters.blocks,
          shares: n.counters.shares,
          stale: n.counters.stale,
          rejected: n.counters.invalid + n.counters.rejected,
        })),
      },
      `hashing at ${formatRate(s.hashrate)} on ${s.workers} workers; accepted ${s.accepted}, stale ${s.stale}, rejected ${s.rejected}`,
    );
  }

  /** Picks the job to mine and hands it to the hasher when it changed. */
  #select(): void {
    if (!this.#started) return;
    const next = this.#choose();
    const cur = this.#mining;
    if (next?.link === cur?.link && next?.job.jobId === cur?.job.jobId) return;
    this.#mining = next;
    if (next === undefined) {
      this.hasher.clearJob();
      this.#log.debug('no valid job: workers idle');
      return;
    }
    const j = next.job;
    this.hasher.setJob({ header: j.header, target: j.target, shareTarget: j.shareTarget, tag: next });
    this.#log.debug(
      { node: next.link.name, jobId: j.jobId.toString(), height: j.height },
      `mining height ${j.height} for ${next.link.name}`,
    );
  }

  #choose(): JobTag | undefined {
    const candidates = this.links.flatMap((link) => {
      const b = link.current();
      return b === undefined ? [] : [{ link, job: b.job, at: b.receivedAt }];
    });
    if (candidates.length === 0) return undefined;
    if (this.#o.strategy === 'round-robin') return this.#roundRobin(candidates);
    const up = candidates.filter((c) => c.link.up);
    const pool = up.length > 0 ? up : candidates;
    let best = pool[0]!;
    for (const c of pool) if (c.at > best.at) best = c;
    return { link: best.link, job: best.job };
  }

  #roundRobin(candidates: { link: NodeLink; job: Job }[]): JobTag {
    const now = performance.now();
    const rotate = this.#o.rotateMs ?? 30_000;
    const up = candidates.filter((c) => c.link.up);
    const pool = up.length > 0 ? up : candidates;
    const holder = pool.find((c) => c.link === this.links[this.#turn]);
    if (holder !== undefined && now - this.#turnStarted < rotate)
      return { link: holder.link, job: holder.job };
    // the next node in order that has a job (the holder itself again when it is the only one)
    for (let k = 1; k <= this.links.length; k++) {
      const i = (this.#turn + k) % this.links.length;
      const c = pool.find((x) => x.link === this.links[i]);
      if (c === undefined) continue;
      this.#turn = i;
      this.#turnStarted = now;
      return { link: c.link, job: c.job };
    }
    return { link: pool[0]!.link, job: pool[0]!.job };
  }

  async #onFound(f: Found<JobTag>): Promise<void> {
    const { link, job } = f.job.tag;
    // stop() closes the links before the workers: a find posted meanwhile has nowhere to go
    if (!this.#started) {
      this.#log.debug({ node: link.name, block: f.block }, 'found while stopping: not sent');
      return;
    }
    if (!f.block && !link.up) {
      this.#log.debug({ node: link.name }, 'share not sent: the node is not connected');
      return;
    }
    const out = await link.submit(job.jobId, f.nonce);
    // a submission the stop cut off is not the node's refusal
    if (!this.#started && out.status === 'failed') return;
    const ctx = { node: link.name, height: job.height, nonce: f.nonce.toString(), hash: hashToHex(f.hash) };
    if (!f.block) {
      this.#log.debug({ ...ctx, status: out.status }, 'share submitted');
      return;
    }
    if (out.status === 'ok') {
      // one line per block, but on `local` (a block every few hashes) at most one a second
      if (this.#blockLines.allow(link.name))
        this.#log.info(
          { ...ctx, suppressed: this.#blockLines.takeSuppressed() },
          `block ${job.height} found for ${link.name}`,
        );
      else this.#log.debug(ctx, `block ${job.height} found for ${link.name}`);
      return;
    }
    const code = 'code' in out ? out.code : undefined;
    if (this.#lostLines.allow(`${link.name}\n${out.status}\n${code ?? ''}`))
      this.#log.warn(
        { ...ctx, status: out.status, code, suppressed: this.#lostLines.takeSuppressed() },
        `${link.name} did not take our block: ${code ?? out.status}`,
      );
    // The job stays paused. stale / unknown-job / not-sent: it is dead, the link moves on.
    // invalid: the node disagrees about its own job (we checked the hash with node:crypto);
    // more nonces would be refused too, so wait for its next job. rejected (e.g. rate-limited)
    // or failed (no answer): try again later, if the job is still the one being mined.
    if (out.status === 'rejected' || out.status === 'failed')
      this.#resumeLater(f.generation, link, job.jobId);
  }

  #resumeLater(generation: number, link: NodeLink, jobId: bigint): void {
    if (!this.#started) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#started && this.hasher.generation === generation && link.isValid(jobId))
        this.hasher.resume(generation);
    }, this.#o.resumeDelayMs ?? 1_000);
    timer.unref();
    this.#timers.add(timer);
  }
}

export function formatRate(hps: number): string {
  if (hps >= 1e9) return `${(hps / 1e9).toFixed(2)} GH/s`;
  if (hps >= 1e6) return `${(hps / 1e6).toFixed(2)} MH/s`;
  if (hps >= 1e3) return `${(hps / 1e3).toFixed(1)} kH/s`;
  return `${Math.round(hps)} H/s`;
}
