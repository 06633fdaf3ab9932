/**
 * The explorer's static files, read once at start and served from memory: the page, its script
 * and style (services/node/explorer/page/, copied beside the compiled code by `npm run build`),
 * and the uPlot chart library from node_modules (a dependency, so the node serves it itself: no
 * CDN, nothing from another origin). Every file goes out with the same strict Content-Security-
 * Policy: scripts, styles and connections to this origin only, no inline code.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CairnError } from '../../../shared/core/errors.ts';

export const EXPLORER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A file of the explorer is missing from the installation (a build that did not copy the page). */
export class ExplorerAssetError extends CairnError {
  readonly code = 'explorer-asset-missing';
}

export interface PageFile {
  readonly type: string;
  readonly body: string;
}

const PAGE: Record<string, [file: string, type: string]> = {
  '/explorer/': ['index.html', 'text/html; charset=utf-8'],
  '/explorer/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/explorer/explorer.js': ['explorer.js', 'text/javascript; charset=utf-8'],
  '/explorer/explorer.css': ['explorer.css', 'text/css; charset=utf-8'],
  '/explorer/favicon.svg': ['favicon.svg', 'image/svg+xml'],
};

const LIBRARY: Record<string, [module: string, type: string]> = {
  '/explorer/vendor/uPlot.iife.min.js': ['uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  '/explorer/vendor/uPlot.min.css': ['uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
};

/** Every file by its URL path. Throws ExplorerAssetError naming a file that cannot be read. */
export function loadPageFiles(): Map<string, PageFile> {
  const files = new Map<string, PageFile>();
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new ExplorerAssetError(`explorer file ${path} cannot be read: ${(e as Error).message}`, {
        cause: e,
      });
    }
  };
  for (const [url, [file, type]] of Object.entries(PAGE))
    files.set(url, { type, body: read(fileURLToPath(new URL(`./page/${file}`, import.meta.url))) });
  const require = createRequire(import.meta.url);
  for (const [url, [module, type]] of Object.entries(LIBRARY)) {
    let path: string;
    try {
      path = require.resolve(module);
    } catch (e) {
      throw new ExplorerAssetError(`${module} is not installed (npm install): ${(e as Error).message}`, {
        cause: e,
      });
    }
    files.set(url, { type, body: read(path) });
  }
  return files;
}
