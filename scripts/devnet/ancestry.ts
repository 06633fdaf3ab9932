/**
 * `npm start` runs the devnet as npm → sh -c → tsx → node scripts/devnet.ts. A `kill <pid of
 * npm>` (what a supervisor or a user sends to the one process it started) reaches npm, which
 * forwards it to `sh`; sh dies of it without passing it on, npm exits, and the devnet would run on
 * orphaned. So the devnet watches the processes above it, up to and including npm (the first one
 * not started by npm for a script), and stops everything cleanly when one of them is gone.
 *
 * On Linux the chain comes from /proc (each process's parent and environment, with its start time
 * so a reused pid is not taken for the same process); elsewhere only the direct parent is watched.
 */
import { readFileSync } from 'node:fs';

export interface Ancestor {
  readonly pid: number;
  /** /proc/<pid>/stat field 22 (start time in clock ticks), or -1 when not known. */
  readonly started: number;
  /** Its command line, for the message. */
  readonly command: string;
}

/** What the walk needs of /proc: injectable for the unit tests. */
export interface ProcReader {
  stat(pid: number): string | undefined;
  environ(pid: number): string | undefined;
  cmdline(pid: number): string | undefined;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

export const PROC: ProcReader = {
  stat: (pid) => read(`/proc/${pid}/stat`),
  environ: (pid) => read(`/proc/${pid}/environ`),
  cmdline: (pid) => read(`/proc/${pid}/cmdline`),
};

/** Parent pid and start time from /proc/<pid>/stat (the command name may hold spaces and ')'). */
export function parseStat(stat: string): { ppid: number; started: number } | undefined {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after the name: state(3) ppid(4) … starttime(22), so f[0] is field 3
  const ppid = Number(f[1]);
  const started = Number(f[19]);
  return Number.isInteger(ppid) && Number.isInteger(started) ? { ppid, started } : undefined;
}

/**
 * The processes above this one that must live for the devnet to be wanted: its parent and, when
 * it runs under an npm script, every process up to npm itself. `underNpm` is whether this
 * process's environment says so (npm_lifecycle_event).
 */
export function ancestors(self: { ppid: number; underNpm: boolean }, proc: ProcReader = PROC): Ancestor[] {
  const out: Ancestor[] = [];
  let pid = self.ppid;
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    const stat = proc.stat(pid);
    const s = stat === undefined ? undefined : parseStat(stat);
    const command = (proc.cmdline(pid) ?? '').split('\0').join(' ').trim();
    out.push({ pid, started: s?.started ?? -1, command });
    if (!self.underNpm || s === undefined) break;
    const env = proc.environ(pid);
    // npm sets npm_lifecycle_event for the script it runs: the first process without it is npm
    if (env === undefined || !env.split('\0').some((v) => v.startsWith('npm_lifecycle_event='))) break;
    pid = s.ppid;
  }
  return out;
}

/** The first of `chain` that is no longer the process it was, if any. */
export function goneAncestor(chain: readonly Ancestor[], proc: ProcReader = PROC): Ancestor | undefined {
  for (const a of chain) {
    if (a.started < 0) {
      if (!alive(a.pid) || process.ppid !== chain[0]!.pid) return a;
      continue;
    }
    const stat = proc.stat(a.pid);
    const s = stat === undefined ? undefined : parseStat(stat);
    if (s === undefined || s.started !== a.started) return a;
    // a zombie (state Z) has ended too: npm may not have reaped it yet
    if (stat!.slice(stat!.lastIndexOf(')') + 2).startsWith('Z')) return a;
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
