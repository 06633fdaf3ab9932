/**
 * Where a file is mapped in this process (/proc/self/maps), and how much of the process's RSS is
 * file pages (/proc/self/status RssFile): what the map trimmer needs to find LMDB's map and to
 * know when it has grown past its budget. Linux only; elsewhere both answer nothing.
 */
import { readFileSync } from 'node:fs';

export interface Mapping {
  readonly start: bigint;
  readonly length: bigint;
}

/** The mappings of `path` in a /proc/PID/maps text (a file may be mapped in several pieces, and remapped when LMDB grows). */
export function mappingsOf(maps: string, path: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of maps.split('\n')) {
    // "start-end perms offset dev inode    path"; the path is the rest of the line and may hold spaces
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s+(.*)$/.exec(line);
    if (m === null || m[3] !== path) continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    if (end > start) out.push({ start, length: end - start });
  }
  return out;
}

/** This process's mappings of `path`; none where /proc is not there. */
export function ownMappingsOf(path: string): Mapping[] {
  try {
    return mappingsOf(readFileSync('/proc/self/maps', 'utf8'), path);
  } catch {
    return [];
  }
}

/** RssFile of this process in bytes (file pages mapped: the node binary, libraries, LMDB's map); undefined without /proc. */
export function rssFileBytes(): number | undefined {
  try {
    const m = /\nRssFile:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}
