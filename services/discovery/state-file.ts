/**
 * The registry saved to disk, so a restarted service still knows the nodes it knew.
 *
 * Format (JSON, mode 0600): `{ "format": "cairn-discovery-state", "version": 1, "savedAt": s,
 * "sha256": hex, "entries": [...] }` where sha256 is over `JSON.stringify(entries)`. Written
 * atomically: a temp file in the same directory, fsync, rename, fsync of the directory. A missing
 * file is an empty registry; a damaged one (unreadable, bad JSON, other version, checksum
 * mismatch) is reported and skipped, never fatal.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CairnError } from '../../shared/core/errors.ts';
import { processAlive } from '../../shared/process-alive.ts';

/** The registry could not be written at stop: what changed since the last save is lost. */
export class DiscoveryStateError extends CairnError {
  readonly code = 'discovery-state-unsaved';
}

const FORMAT = 'cairn-discovery-state';
const VERSION = 1;
const MAX_FILE_BYTES = 64 * 1024 * 1024;

function checksum(entries: unknown): string {
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

export async function saveState(path: string, entries: readonly unknown[], now: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const body = { format: FORMAT, version: VERSION, savedAt: now, sha256: checksum(entries), entries };
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(body)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    // a full disk fails the write: the partial temp file must not stay behind
    await rm(tmp, { force: true });
    throw e;
  }
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    /* some file systems cannot fsync a directory; the rename is still atomic */
  }
}

/**
 * Removes the temp files of saves that never finished (`<path>.<pid>.tmp` of a process no longer
 * running: killed in the middle of a save, or stopped by its stop's watchdog). Returns their names.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return []; // no directory yet: nothing was saved
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = name.startsWith(prefix) && name.endsWith('.tmp') ? name.slice(prefix.length, -4) : '';
    if (!/^\d+$/.test(pid) || processAlive(Number(pid))) continue;
    await rm(join(dirname(path), name), { force: true });
    removed.push(name);
  }
  return removed;
}

export interface LoadedState {
  readonly entries: unknown[];
  /** Set when the file exists but could not be used (it is then ignored). */
  readonly error?: string;
}

export async function loadState(path: string): Promise<LoadedState> {
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_FILE_BYTES) return { entries: [], error: `larger than ${MAX_FILE_BYTES} bytes` };
    text = buf.toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [] };
    return { entries: [], error: (e as Error).message };
  }
  let data: { format?: unknown; version?: unknown; sha256?: unknown; entries?: unknown };
  try {
    data = JSON.parse(text) as typeof data;
  } catch (e) {
    return { entries: [], error: `not JSON (${(e as Error).message})` };
  }
  if (typeof data !== 'object' || data === null || data.format !== FORMAT)
    return { entries: [], error: 'not a cairn-discovery state file' };
  if (data.version !== VERSION) return { entries: [], error: `unknown version ${String(data.version)}` };
  if (!Array.isArray(data.entries)) return { entries: [], error: 'no entries list' };
  if (data.sha256 !== checksum(data.entries))
    return { entries: [], error: 'checksum mismatch (damaged file)' };
  return { entries: data.entries };
}
