/**
 * A one-line progress bar on stderr for commands that wait (confirmations). Drawn only when
 * stderr is a terminal and the output is not `--json`; otherwise silent, so logs and pipes stay
 * clean.
 */

export class ProgressBar {
  readonly #enabled: boolean;
  readonly #width = 30;
  #drawn = false;

  constructor(
    readonly label: string,
    opts: { json: boolean; stream?: NodeJS.WriteStream },
  ) {
    this.#stream = opts.stream ?? process.stderr;
    this.#enabled = !opts.json && this.#stream.isTTY === true;
  }

  readonly #stream: NodeJS.WriteStream;

  get enabled(): boolean {
    return this.#enabled;
  }

  update(done: number, total: number, detail = ''): void {
    if (!this.#enabled) return;
    const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
    const full = Math.round(ratio * this.#width);
    const bar = `${'█'.repeat(full)}${'░'.repeat(this.#width - full)}`;
    this.#stream.write(`\r${this.label} [${bar}] ${done}/${total}${detail === '' ? '' : ` ${detail}`}\x1b[K`);
    this.#drawn = true;
  }

  finish(): void {
    if (this.#enabled && this.#drawn) this.#stream.write('\n');
    this.#drawn = false;
  }
}
