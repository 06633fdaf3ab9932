/**
 * Runs the devnet's processes: each one a child with its output in its own log file, stopped
 * with SIGTERM in the reverse order of start (recorders, nodes, discovery) and killed if it has
 * not exited within the grace time, so Ctrl-C leaves nothing behind. If the devnet itself dies of
 * an error, its exit hook still sends every child SIGTERM; only `kill -9` of the devnet leaves
 * them running: `npm start -- --stop` stops what the pid file lists.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Managed {
  readonly name: string;
  readonly logPath: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

export class Supervisor {
  readonly #procs: Managed[] = [];
  #stopping = false;
  /** Called when a process ends while the devnet is still meant to run. */
  onUnexpectedExit: (m: Managed, how: number | string) => void = () => undefined;

  constructor() {
    process.on('exit', () => {
      for (const m of this.#procs)
        if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGTERM');
    });
  }

  get processes(): readonly Managed[] {
    return this.#procs;
  }

  /** Starts `node --import tsx <main> <args…>` with stdout and stderr appended to `logPath`. */
  start(name: string, main: string, args: readonly string[], logPath: string): Managed {
    mkdirSync(dirname(logPath), { recursive: true });
    const fd = openSync(logPath, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, FORCE_COLOR: '0' },
      // its own process group: a terminal's Ctrl-C reaches only the devnet, which then stops each
      // child once (a second signal would make cairnd exit without a clean stop)
      detached: true,
    });
    closeSync(fd);
    const exited = new Promise<number | string>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.on('error', () => resolve('spawn-failed'));
    });
    const m: Managed = { name, logPath, child, exited };
    void exited.then((how) => {
      if (!this.#stopping) this.onUnexpectedExit(m, how);
    });
    this.#procs.push(m);
    return m;
  }

  /** SIGTERM to each process, newest first, waiting for each; SIGKILL after `graceMs`. */
  async stopAll(graceMs = 15_000): Promise<{ name: string; how: number | string }[]> {
    this.#stopping = true;
    const out: { name: string; how: number | string }[] = [];
    for (const m of [...this.#procs].reverse()) {
      if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGTERM');
      const timer = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
      const how = await m.exited;
      clearTimeout(timer);
      out.push({ name: m.name, how });
    }
    return out;
  }
}

/** The last `n` lines of a log file (for a process that died). */
export function tail(path: string, n = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
