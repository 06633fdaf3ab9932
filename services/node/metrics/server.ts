/**
 * The Prometheus listener (node:http): `GET /metrics` (and HEAD) → the exposition text; any other
 * path 404, any other verb 405. No authentication: it binds loopback by default (`metrics.listen`).
 * A scrape is cheap (gauges read in-memory counts), but at most `maxConcurrent` run at once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../shared/log.ts';
import { respond } from '../http/respond.ts';
import { parseListenAddress } from '../rpc/server.ts';
import type { NodeMetrics } from './metrics.ts';

export interface MetricsServerOptions {
  /** `host:port`, IPv6 bracketed; port 0 = any free port. */
  readonly listen: readonly string[];
  /** Default 4. */
  readonly maxConcurrent?: number;
}

export interface MetricsServerModules {
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
}

export class MetricsServer {
  readonly #o: MetricsServerOptions;
  readonly #m: MetricsServerModules;
  readonly #servers: Server[] = [];
  #bound: string[] = [];
  #running = 0;

  constructor(opts: MetricsServerOptions, modules: MetricsServerModules) {
    for (const a of opts.listen) {
      if (parseListenAddress(a) === undefined)
        throw new TypeError(`metrics listen address "${a}" is not host:port`);
    }
    this.#o = opts;
    this.#m = modules;
  }

  /** Bound addresses (`host:port`), after `start()`. */
  addresses(): string[] {
    return [...this.#bound];
  }

  async start(): Promise<void> {
    this.#m.metrics.start();
    try {
      for (const address of this.#o.listen) {
        const { host, port } = parseListenAddress(address)!;
        const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
          this.#handle(req, res).catch((err: unknown) => {
            this.#m.logger.error({ err }, 'metrics scrape failed');
            if (!res.headersSent) respond(res, 500, 'text/plain', 'internal error\n');
            else res.destroy();
          });
        });
        this.#servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        server.on('error', (err) => this.#m.logger.error({ err, address }, 'metrics server error'));
        const a = server.address() as AddressInfo;
        this.#bound.push(a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#m.logger.info(
      { listen: this.#bound },
      `metrics on http://${this.#bound.join('/metrics, http://')}/metrics`,
    );
  }

  async stop(): Promise<void> {
    this.#m.metrics.stop();
    const servers = this.#servers.splice(0);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.#bound = [];
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      respond(res, 404, 'text/plain', 'not found (try /metrics)\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      respond(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (this.#running >= (this.#o.maxConcurrent ?? 4)) {
      respond(res, 503, 'text/plain', 'busy\n', { 'Retry-After': '1' });
      return;
    }
    this.#running++;
    try {
      const { contentType, body } = await this.#m.metrics.scrape();
      respond(res, 200, contentType, body);
    } finally {
      this.#running--;
    }
  }
}
