/**
 * A bcoin full node as a child process: bcoin's own `bin/node` (what a user runs), on regtest,
 * with its defaults except: `--checkpoints=false` (on regtest there are none to skip scripts
 * below anyway), no wallet, log level info to its log file, nothing on the console. bcoin 2.2.0 has
 * no assume-valid: with checkpoints off every script of every block is verified. `bin/node`
 * enables bcoin's worker processes (one per core) for script verification; the process watcher
 * counts their CPU and memory with the node's.
 * JSON-RPC over node:http with keep-alive, as bench/rpc-client.ts does for cairnd.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePorts } from '../../test/unit/zmq/ports.ts';
import { type JsonRpcTarget, jsonRpcClient } from '../rpc-client.ts';

export class BcoinNode {
  proc: ChildProcess | undefined;
  stderr = '';
  readonly #rpc: ReturnType<typeof jsonRpcClient>;
  #exited: Promise<number | null> = Promise.resolve(null);
  exitCode: number | null = null;

  private constructor(
    readonly bcoinDir: string,
    readonly name: string,
    readonly prefix: string,
    readonly port: number,
    readonly httpPort: number,
    readonly args: string[],
    sockets: number,
  ) {
    this.target = { port: httpPort, credentials: 'x:bench', version: '1.0', label: `bcoin ${name}` };
    this.#rpc = jsonRpcClient(this.target, sockets);
  }

  /** Its RPC endpoint (bench/rpc-submit.ts encodes requests for it). */
  readonly target: JsonRpcTarget;

  /** New RPC connections for the next calls (an idle keep-alive socket may have been closed). */
  reconnect(): void {
    this.#rpc.reconnect();
  }

  static async make(o: {
    bcoinDir: string;
    name: string;
    prefix: string;
    /** `host:port` peers: the node connects to these only and does not listen */
    only?: string[];
    args?: string[];
    sockets?: number;
  }): Promise<BcoinNode> {
    const [port, httpPort] = await freePorts(2);
    const args = [
      '--network=regtest',
      `--prefix=${o.prefix}`,
      '--no-wallet',
      '--checkpoints=false',
      '--log-level=info',
      '--log-console=false',
      `--port=${port}`,
      '--http-host=127.0.0.1',
      `--http-port=${httpPort}`,
      '--api-key=bench',
      ...(o.only === undefined
        ? ['--listen=true', '--host=127.0.0.1', '--public-host=127.0.0.1']
        : ['--listen=false', `--only=${o.only.join(',')}`]),
      ...(o.args ?? []),
    ];
    return new BcoinNode(o.bcoinDir, o.name, o.prefix, port!, httpPort!, args, o.sockets ?? 4);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The command line, for the report. */
  get commandLine(): string {
    return `node ${join(this.bcoinDir, 'bin', 'node')} ${this.args.join(' ')}`;
  }

  /** Spawns the node; resolves when its RPC answers. */
  async start(): Promise<void> {
    const proc = spawn(process.execPath, [join(this.bcoinDir, 'bin', 'node'), ...this.args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, BCOIN_WORKER_FILE: undefined },
    });
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.#exited = new Promise((resolve) =>
      proc.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
    const end = Date.now() + 60_000;
    for (;;) {
      if (this.exitCode !== null)
        throw new Error(`bcoin ${this.name} exited (${this.exitCode}): ${this.stderr}`);
      try {
        await this.call('getblockcount');
        return;
      } catch {
        if (Date.now() > end) throw new Error(`bcoin ${this.name}: no RPC after 60 s: ${this.stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return this.#rpc.call<T>(method, params);
  }

  /** SIGINT (bin/node closes its databases on it) and wait; SIGKILL after 10 s. */
  async stop(): Promise<void> {
    this.#rpc.close();
    if (this.proc === undefined || this.exitCode !== null) return;
    this.proc.kill('SIGINT');
    const t = setTimeout(() => this.proc?.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(t);
  }

  async kill(): Promise<void> {
    this.#rpc.close();
    if (this.proc === undefined || this.exitCode !== null) return;
    this.proc.kill('SIGKILL');
    await this.#exited;
  }
}
