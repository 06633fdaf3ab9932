/**
 * Runs the devnet's processes: each one a child with its output in its own log file. A process
 * that ends on its own (killed, crashed, or stopped by someone else) is reported — one line with
 * how it ended, then the last lines of its log — and restarted with a backoff (./restart.ts),
 * while the rest keep running; after too many quick failures in a row it is left stopped, said so.
 *
 * `stopAll` stops them with SIGTERM in the reverse order of start (recorders, nodes, discovery)
 * and kills one that has not exited within the grace time, so Ctrl-C leaves nothing behind. If the
 * devnet itself dies of an error, its exit hook still sends every child SIGTERM; only `kill -9` of
 * the devnet leaves them running: `npm start -- --stop` stops what the pid file lists.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  describeEnding,
  type Ending,
  type RestartDecision,
  type RestartOptions,
  RestartPolicy,
  seconds,
} from './restart.ts';

export interface ProcessSpec {
  readonly name: string;
  /** The program's TypeScript entry point (absolute). */
  readonly main: string;
  readonly args: readonly string[];
  readonly logPath: string;
  /**
   * A command the program runs under, e.g. `['ip', 'netns', 'exec', NS]` (the simulation's hosts);
   * it must exec the program in place so signals reach it.
   */
  readonly wrap?: readonly string[];
}

export interface SupervisorOptions {
  /** Absolute URL of tsx's loader (`import.meta.resolve('tsx')`): found whatever the cwd. */
  readonly tsxLoader: string;
  /** Working directory of the children (the repository). */
  readonly cwd: string;
  readonly restart?: RestartOptions;
  /** Where reports go (the devnet's terminal). */
  readonly report?: (text: string) => void;
  /** How a log path is shown (relative to the user's directory). */
  readonly showPath?: (path: string) => string;
  /** Called whenever a process starts or ends (the devnet rewrites its pid file). */
  readonly onChange?: () => void;
}

type State = 'running' | 'waiting' | 'gave-up' | 'stopped';

class Supervised {
  child: ChildProcess | undefined;
  exited: Promise<Ending> = Promise.resolve('not started');
  startedAt = 0;
  starts = 0;
  state: State = 'running';
  timer: NodeJS.Timeout | undefined;
  lastEnding: Ending | undefined;
  readonly policy: RestartPolicy;
  constructor(
    readonly spec: ProcessSpec,
    restart: RestartOptions | undefined,
  ) {
    this.policy = new RestartPolicy(restart);
  }
}

/** How a process ended when the devnet stopped: its exit code or signal, or why it was not running. */
export interface Stopped {
  readonly name: string;
  readonly how: Ending;
  /** False when it was not running at the stop (waiting to restart, or given up). */
  readonly wasRunning: boolean;
}

const MARKER = '--- devnet: ';

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #procs: Supervised[] = [];
  #stopping = false;

  constructor(o: SupervisorOptions) {
    this.#o = o;
    process.on('exit', () => {
      for (const p of this.#procs) if (isRunning(p.child)) p.child!.kill('SIGTERM');
    });
  }

  /** Name → pid of every process running now. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.#procs)
      if (isRunning(p.child) && p.child!.pid !== undefined) out[p.spec.name] = p.child!.pid;
    return out;
  }

  /** The state of one process (for tests and the status line). */
  state(name: string): State | undefined {
    return this.#procs.find((p) => p.spec.name === name)?.state;
  }

  /** Starts `node --import <tsx> <main> <args…>` with stdout and stderr appended to its log. */
  start(spec: ProcessSpec): void {
    const p = new Supervised(spec, this.#o.restart);
    this.#procs.push(p);
    this.#spawn(p);
  }

  #spawn(p: Supervised): void {
    const { spec } = p;
    mkdirSync(dirname(spec.logPath), { recursive: true });
    p.starts++;
    appendFileSync(
      spec.logPath,
      `${MARKER}${p.starts === 1 ? 'starting' : `restarting (start ${p.starts})`} ${spec.name} at ${new Date().toISOString()} ---\n`,
    );
    const fd = openSync(spec.logPath, 'a');
    const argv = [process.execPath, '--import', this.#o.tsxLoader, spec.main, ...spec.args];
    const [cmd, ...args] = [...(spec.wrap ?? []), ...argv] as [string, ...string[]];
    const child = spawn(cmd, args, {
      cwd: this.#o.cwd,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, FORCE_COLOR: '0' },
      // its own process group: a terminal's Ctrl-C reaches only the devnet, which then stops each
      // child once (a second signal would make cairnd exit without a clean stop)
      detached: true,
    });
    closeSync(fd);
    p.child = child;
    p.state = 'running';
    p.startedAt = Date.now();
    p.exited = new Promise<Ending>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.on('error', () => resolve('spawn-failed'));
    });
    void p.exited.then((how) => {
      p.lastEnding = how;
      if (this.#stopping || p.state === 'stopped') return;
      this.#ended(p, how);
      this.#o.onChange?.();
    });
    this.#o.onChange?.();
  }

  #ended(p: Supervised, how: Ending): void {
    const uptimeMs = Date.now() - p.startedAt;
    const decision = p.policy.onExit(how, uptimeMs);
    const show = this.#o.showPath ?? ((s: string) => s);
    this.#o.report?.(
      exitReport(p.spec.name, how, uptimeMs, decision, show(p.spec.logPath), lastRun(p.spec.logPath)),
    );
    if (!decision.restart) {
      p.state = 'gave-up';
      return;
    }
    p.state = 'waiting';
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (this.#stopping) return;
      this.#spawn(p);
      this.#o.report?.(`  ${p.spec.name} restarted (pid ${p.child?.pid ?? '?'})`);
    }, decision.delayMs);
  }

  /**
   * Stops one process on purpose (SIGTERM, SIGKILL after `graceMs`): it is not restarted until
   * `resume`. The simulation's churn.
   */
  async stop(name: string, graceMs = 15_000): Promise<Ending | undefined> {
    const p = this.#find(name);
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    p.state = 'stopped';
    if (!isRunning(p.child)) return undefined;
    p.child!.kill('SIGTERM');
    const timer = setTimeout(() => p.child!.kill('SIGKILL'), graceMs);
    const how = await p.exited;
    clearTimeout(timer);
    return how;
  }

  /** Starts again a process `stop` ended (a new restart policy: its earlier ends were on purpose). */
  resume(name: string): void {
    const p = this.#find(name);
    if (isRunning(p.child) || this.#stopping) return;
    this.#spawn(p);
  }

  /** Adds a process without starting it (`resume` starts it): one that joins later. */
  add(spec: ProcessSpec): void {
    const p = new Supervised(spec, this.#o.restart);
    p.state = 'stopped';
    this.#procs.push(p);
  }

  #find(name: string): Supervised {
    const p = this.#procs.find((q) => q.spec.name === name);
    if (p === undefined) throw new Error(`no process ${name}`);
    return p;
  }

  /** SIGTERM to each running process, newest first, waiting for each; SIGKILL after `graceMs`. */
  async stopAll(graceMs = 15_000): Promise<Stopped[]> {
    this.#stopping = true;
    for (const p of this.#procs) if (p.timer) clearTimeout(p.timer);
    const out: Stopped[] = [];
    for (const p of [...this.#procs].reverse()) {
      const running = isRunning(p.child);
      if (!running) {
        out.push({ name: p.spec.name, how: p.lastEnding ?? 'not started', wasRunning: false });
        p.state = 'stopped';
        continue;
      }
      p.child!.kill('SIGTERM');
      const timer = setTimeout(() => p.child!.kill('SIGKILL'), graceMs);
      const how = await p.exited;
      clearTimeout(timer);
      p.state = 'stopped';
      out.push({ name: p.spec.name, how, wasRunning: true });
    }
    return out;
  }
}

function isRunning(c: ChildProcess | undefined): boolean {
  return c !== undefined && c.exitCode === null && c.signalCode === null && c.pid !== undefined;
}

/**
 * The report of a process that ended on its own: one line saying how, after how long and what
 * happens next, then the last lines of its log, indented.
 */
export function exitReport(
  name: string,
  how: Ending,
  uptimeMs: number,
  d: RestartDecision,
  logShown: string,
  logTail: string,
): string {
  const next = d.restart
    ? `restarting it in ${seconds(d.delayMs)} (${d.why}); the rest keep running`
    : `not restarting it any more (${d.why}); the rest keep running — fix the cause (see the log), then restart the devnet`;
  const body = logTail === '' ? '    (its log is empty)' : logTail.replace(/^/gm, '    ');
  return `\n! ${name} ended: ${describeEnding(how)} after ${seconds(Math.round(uptimeMs / 100) * 100)}; ${next}. Last lines of ${logShown}:\n${body}`;
}

/** The last `n` lines a log file got since the devnet last started its process. */
export function lastRun(path: string, n = 10): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '';
  }
  const at = text.lastIndexOf(MARKER);
  if (at >= 0) text = text.slice(text.indexOf('\n', at) + 1);
  const lines = text.trimEnd().split('\n');
  return lines.length === 1 && lines[0] === '' ? '' : lines.slice(-n).map(readable).join('\n');
}

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** A pino JSON log line as `12:03:04 ERROR message (error)`; any other line as it is. */
export function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const j = JSON.parse(line) as { level?: number; time?: number; msg?: string; err?: { message?: string } };
    if (typeof j.msg !== 'string') return line;
    const time = typeof j.time === 'number' ? `${new Date(j.time).toISOString().slice(11, 19)} ` : '';
    const level = LEVELS[j.level ?? 30] ?? String(j.level);
    const err = j.err?.message !== undefined && !j.msg.includes(j.err.message) ? ` (${j.err.message})` : '';
    return `${time}${level} ${j.msg}${err}`;
  } catch {
    return line;
  }
}

/** The last `n` lines of a log file. */
export function tail(path: string, n = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
