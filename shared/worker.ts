/**
 * Starts a worker thread from a module next to the caller, in development (TypeScript run by tsx)
 * and in production (compiled .js) alike: worker threads do not inherit tsx's loader, so a .ts
 * module is imported through tsx's API from a small bootstrap.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `name` is the module's base name without extension, resolved next to `importMetaUrl`. */
export function startWorker(name: string, importMetaUrl: string, options: WorkerOptions = {}): Worker {
  const ext = extname(fileURLToPath(importMetaUrl));
  const url = new URL(`./${name}${ext}`, importMetaUrl);
  if (ext !== '.ts') return new Worker(url, options);
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`;
  return new Worker(code, { ...options, eval: true });
}
