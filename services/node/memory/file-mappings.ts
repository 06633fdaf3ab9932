/**
 * Where a file is mapped in this process (/proc/self/maps), and what the process's RSS is made of
 * (/proc/self/status): what the map trimmer needs to find LMDB's map and to know when it has grown
 * past its budget, and what getmemoryinfo reports. Linux only; elsewhere both answer nothing.
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

/** This process's resident memory in bytes, from /proc/self/status; undefined without /proc. */
export interface StatusMemory {
  /** VmRSS: all of it. */
  readonly rss: number;
  /** RssAnon: heap, buffers, stacks: memory only this process holds. */
  readonly anon: number;
  /** RssFile: file pages mapped (the node binary, libraries, LMDB's map); the kernel may reclaim them. */
  readonly file: number;
}

export function statusMemory(): StatusMemory | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string) =>
    Number(new RegExp(`\\n${key}:\\s+(\\d+) kB`).exec(text)?.[1] ?? Number.NaN) * 1024;
  const out = { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
  return Number.isNaN(out.rss + out.anon + out.file) ? undefined : out;
}

/** RssFile of this process in bytes; undefined without /proc. */
export function rssFileBytes(): number | undefined {
  return statusMemory()?.file;
}
