/**
 * The web explorer's server side: its page and chart library (GET /explorer/...), the live event
 * stream (GET /explorer/events), and the data behind the REST endpoints that only the explorer
 * needed (assets newest first, address history, spent outputs, block figures, samples over time).
 * Built by the composition root when `rpc.rest` is on; stopped before the HTTP server, so that its
 * open event streams do not hold the server's shutdown.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NetworkParams } from '../../../shared/core/params/types.ts';
import type { Logger } from '../../../shared/log.ts';
import type { ChainState } from '../chain-state.ts';
import { respond } from '../http/respond.ts';
import { AssetIndex } from './asset-index.ts';
import { LedgerQueries } from './ledger-queries.ts';
import { LIVE_DEFAULTS, LiveEvents, type LiveOptions } from './live-events.ts';
import { EXPLORER_CSP, loadPageFiles, type PageFile } from './page-assets.ts';
import { Samples } from './samples.ts';

export interface ExplorerOptions {
  /** How often the mempool and the recorders' rates are sampled for the charts. Default 5000. */
  readonly sampleIntervalMs?: number;
  /** Samples kept (a ring). Default 720 (an hour at 5 s). */
  readonly sampleKeep?: number;
  readonly live?: Partial<LiveOptions>;
}

export interface ExplorerModules {
  readonly state: ChainState;
  readonly params: NetworkParams;
  readonly logger: Logger;
  readonly clock: () => number;
  /** The proof channel's recorders and their hash rates; undefined without one. */
  readonly recorders: (() => { key: string; hashrate: number }[]) | undefined;
  readonly initialBlockDownload: () => boolean;
}

export class Explorer {
  readonly assets: AssetIndex;
  readonly queries: LedgerQueries;
  readonly samples: Samples;
  readonly live: LiveEvents;
  readonly #m: ExplorerModules;
  #files = new Map<string, PageFile>();

  constructor(opts: ExplorerOptions, modules: ExplorerModules) {
    this.#m = modules;
    const { state, params } = modules;
    this.assets = new AssetIndex(state.chain);
    this.queries = new LedgerQueries(state, params);
    this.samples = new Samples(
      { intervalMs: opts.sampleIntervalMs ?? 5000, keep: opts.sampleKeep ?? 720 },
      { reservoir: state.reservoir, recorders: modules.recorders, clock: modules.clock },
    );
    this.live = new LiveEvents(
      { ...LIVE_DEFAULTS, ...opts.live },
      {
        chain: state.chain,
        reservoir: state.reservoir,
        logger: modules.logger,
        network: params.name,
        blockFigures: (b, h) => this.queries.noteBlock(b, h),
        sync: () => ({
          blocks: state.chain.tipHeight(),
          headers: state.chain.bestHeader().height,
          initialblockdownload: modules.initialBlockDownload(),
        }),
      },
    );
  }

  start(): void {
    try {
      this.#files = loadPageFiles();
    } catch (e) {
      // the REST API works without the page: say what is missing instead of refusing to start
      this.#m.logger.error({ err: e }, `explorer page unavailable: ${(e as Error).message}`);
    }
    this.assets.start();
    this.samples.start();
    this.live.start();
  }

  stop(): void {
    this.live.stop();
    this.samples.stop();
    this.assets.stop();
  }

  /** `/explorer/...` (and `/` from a browser): answers and returns true, or returns false. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/') {
      if (!String(req.headers.accept ?? '').includes('text/html')) return false;
      this.#file(req, res, '/explorer/');
      return true;
    }
    if (path === '/explorer') {
      req.resume();
      res.writeHead(301, { Location: '/explorer/', 'Content-Length': '0' });
      res.end();
      return true;
    }
    if (path === '/explorer/events') {
      this.live.handle(req, res);
      return true;
    }
    if (path.startsWith('/explorer/')) {
      this.#file(req, res, path);
      return true;
    }
    return false;
  }

  #file(req: IncomingMessage, res: ServerResponse, path: string): void {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      respond(res, 405, 'text/plain', 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    const file = this.#files.get(path);
    if (file === undefined) {
      respond(res, 404, 'text/plain', 'not found\n');
      return;
    }
    respond(res, 200, file.type, file.body, {
      'Content-Security-Policy': EXPLORER_CSP,
      'Cache-Control': 'no-cache',
      'Referrer-Policy': 'no-referrer',
    });
  }
}
