/**
 * ZAP 1.0 handler (ZeroMQ RFC 27): decides which CURVE clients a server socket lets in.
 *
 * libzmq asks the socket bound at `inproc://zeromq.zap.01` of the socket's context for every
 * handshake on a server socket (CURVE always; NULL only when a ZAP domain is set). Without such a
 * handler libzmq lets EVERY CURVE client in, so there is exactly one ZapHandler per process, in the
 * default context, started before any server socket (and server sockets also set
 * `zapEnforceDomain`, see curve.ts, so they fail closed if it is missing).
 *
 * Policy is per ZAP domain (each server socket names its domain):
 *   - `{ allow: 'any' }`: any client that completes the CURVE handshake (open peer network);
 *   - `{ allow: Set<Z85 public key> }`: only listed keys (recorders, `peering.allow`).
 * A domain without a policy refuses everyone (a socket that forgot its policy is closed, not open).
 * Only mechanism CURVE is accepted; NULL and PLAIN are refused. Policies can be replaced at any
 * time; they apply to the next handshake (connections already in stay in).
 *
 * Request frames (after the ROUTER routing id and the empty delimiter): version "1.0", request id,
 * domain, address, identity, mechanism, credentials... Reply: version, request id, status code
 * ("200" / "400" / "500"), status text, user id (the client key in Z85), metadata (empty).
 */
import { Router } from 'zeromq';
import { isZ85Key, z85Encode } from '../identity/z85.ts';
import type { Logger } from '../log.ts';
import { TransportError } from './errors.ts';
import { LogLimiter } from './log-limit.ts';

export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

export type ZapPolicy = { allow: 'any' } | { allow: ReadonlySet<string> };

export interface ZapCounters {
  accepted: number;
  refused: number;
  /** Requests that did not follow RFC 27 (should never happen: libzmq writes them). */
  malformed: number;
}

export interface ZapDecision {
  status: '200' | '400' | '500';
  text: string;
  /** Z85 client key when accepted, '' otherwise. */
  userId: string;
}

export interface ZapRequest {
  domain: string;
  address: string;
  mechanism: string;
  credentials: Buffer[];
}

let active: ZapHandler | null = null;

export class ZapHandler {
  readonly #logger: Logger;
  readonly #policies = new Map<string, { allow: 'any' } | { allow: Set<string> }>();
  readonly #counters: ZapCounters = { accepted: 0, refused: 0, malformed: 0 };
  readonly #limiter: LogLimiter;
  #socket: Router | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;

  constructor(deps: { logger: Logger; refusalLogIntervalMs?: number; now?: () => number }) {
    this.#logger = deps.logger;
    this.#limiter = new LogLimiter({ intervalMs: deps.refusalLogIntervalMs ?? 60_000, now: deps.now });
  }

  /** The handler running in this process, if any (server sockets refuse to start without one). */
  static active(): ZapHandler | null {
    return active;
  }

  get running(): boolean {
    return this.#socket !== null && !this.#stopping;
  }

  get counters(): Readonly<ZapCounters> {
    return { ...this.#counters };
  }

  /** Binds the handler. Throws if another handler already runs in this process. */
  async start(): Promise<void> {
    if (this.#socket !== null) throw new TransportError('transport-config', 'ZAP handler already started');
    if (active !== null)
      throw new TransportError('transport-config', 'a ZAP handler is already running in this process');
    active = this;
    const socket = new Router({ linger: 0 });
    try {
      await socket.bind(ZAP_ENDPOINT);
    } catch (cause) {
      socket.close();
      active = null;
      throw new TransportError('transport-bind', `cannot bind ${ZAP_ENDPOINT}: ${String(cause)}`, { cause });
    }
    this.#socket = socket;
    this.#stopping = false;
    this.#loop = this.#run(socket);
  }

  /** Sets (or replaces) the policy of one ZAP domain. Keys are validated and copied. */
  setPolicy(domain: string, policy: ZapPolicy): void {
    if (policy.allow === 'any') {
      this.#policies.set(domain, { allow: 'any' });
      return;
    }
    const keys = new Set<string>();
    for (const key of policy.allow) {
      if (!isZ85Key(key))
        throw new TransportError(
          'transport-config',
          `ZAP domain '${domain}': '${key}' is not a Z85 CURVE key`,
        );
      keys.add(key);
    }
    this.#policies.set(domain, { allow: keys });
  }

  removePolicy(domain: string): void {
    this.#policies.delete(domain);
  }

  hasPolicy(domain: string): boolean {
    return this.#policies.has(domain);
  }

  /** The decision for one request (pure apart from the current policies). */
  decide(req: ZapRequest): ZapDecision {
    if (req.mechanism !== 'CURVE')
      return { status: '400', text: `mechanism ${req.mechanism || '(none)'} not allowed`, userId: '' };
    const policy = this.#policies.get(req.domain);
    if (policy === undefined) return { status: '400', text: 'no policy for this ZAP domain', userId: '' };
    const raw = req.credentials[0];
    if (req.credentials.length !== 1 || raw === undefined || raw.length !== 32)
      return { status: '400', text: 'malformed CURVE credentials', userId: '' };
    const key = z85Encode(raw);
    if (policy.allow !== 'any' && !policy.allow.has(key))
      return { status: '400', text: 'key not allowed', userId: '' };
    return { status: '200', text: 'OK', userId: key };
  }

  async stop(): Promise<void> {
    const socket = this.#socket;
    if (socket === null) return;
    this.#stopping = true;
    socket.close();
    await this.#loop;
    this.#socket = null;
    this.#loop = null;
    if (active === this) active = null;
  }

  async #run(socket: Router): Promise<void> {
    while (!this.#stopping) {
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch (err) {
        if (this.#stopping || socket.closed) return;
        this.#logger.error({ err }, 'ZAP handler: receive failed');
        continue;
      }
      const reply = this.#handle(frames);
      if (reply === null) continue;
      try {
        await socket.send(reply);
      } catch (err) {
        if (this.#stopping || socket.closed) return;
        this.#logger.error({ err }, 'ZAP handler: send failed');
      }
    }
  }

  /** frames: routing id, empty delimiter, version, request id, domain, address, identity, mechanism, credentials... */
  #handle(frames: Buffer[]): (Buffer | string)[] | null {
    const [routingId, delimiter, version, requestId] = frames;
    if (routingId === undefined || delimiter?.length !== 0 || requestId === undefined) {
      this.#counters.malformed++;
      if (this.#limiter.allow('malformed'))
        this.#logger.warn({ frames: frames.length }, 'ZAP: malformed request');
      return null;
    }
    const head = [routingId, delimiter, '1.0', requestId];
    if (version?.toString() !== '1.0' || frames.length < 8) {
      this.#counters.malformed++;
      if (this.#limiter.allow('malformed'))
        this.#logger.warn({ version: version?.toString(), frames: frames.length }, 'ZAP: bad request');
      this.#counters.refused++;
      return [...head, '400', 'bad ZAP request', '', ''];
    }
    const req: ZapRequest = {
      domain: frames[4]!.toString(),
      address: frames[5]!.toString(),
      mechanism: frames[7]!.toString(),
      credentials: frames.slice(8),
    };
    let decision: ZapDecision;
    try {
      decision = this.decide(req);
    } catch (err) {
      this.#logger.error({ err }, 'ZAP: policy check failed');
      decision = { status: '500', text: 'internal error', userId: '' };
    }
    if (decision.status === '200') {
      this.#counters.accepted++;
    } else {
      this.#counters.refused++;
      const raw = req.credentials[0];
      const key = req.mechanism === 'CURVE' && raw?.length === 32 ? z85Encode(raw) : req.mechanism;
      if (this.#limiter.allow(`${req.domain}\n${req.address}\n${key}`)) {
        const suppressed = this.#limiter.takeSuppressed();
        this.#logger.warn(
          { domain: req.domain, address: req.address, key, reason: decision.text, suppressed },
          'ZAP: connection refused',
        );
      }
    }
    return [...head, decision.status, decision.text, decision.userId, ''];
  }
}
