/**
 * `<datadir>/cairnd.pid`: created exclusively at start, removed at a clean stop. A file left by a
 * process that is gone (kill -9, crash) is replaced; one of a live process refuses the start.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { processAlive } from '../../shared/process-alive.ts';
import { dataDirError } from './db/errors.ts';

export class AlreadyRunningError extends Error {
  constructor(
    readonly pid: number,
    path: string,
  ) {
    super(
      `another cairnd (pid ${pid}) uses this data directory (${path}); stop it first, or use another data_dir`,
    );
  }
}

export function acquirePidFile(path: string): () => void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw dataDirError(e, dirname(path));
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw dataDirError(e, dirname(path));
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid))
        throw new AlreadyRunningError(pid, path);
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not create ${path}`);
}
