/**
 * Where the wallet passphrase comes from, in this order: `--passphrase-file` (its first line),
 * the environment variable CAIRN_WALLET_PASSPHRASE, or a prompt on the terminal without echo.
 */
import { readFileSync } from 'node:fs';
import { CliUsageError } from './errors.ts';

export const PASSPHRASE_ENV = 'CAIRN_WALLET_PASSPHRASE';

/** Reads a line from the terminal without echoing it. Ctrl-C aborts (exit 130). */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY)
    return Promise.reject(
      new CliUsageError(
        `no passphrase: give --passphrase-file or set ${PASSPHRASE_ENV} (stdin is not a terminal)`,
      ),
    );
  process.stderr.write(question);
  return new Promise((resolve) => {
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          done();
          process.exit(130);
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

function fromFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliUsageError(`--passphrase-file ${path}: ${(e as Error).message}`);
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** The passphrase of an existing wallet. */
export async function getPassphrase(file: string | undefined): Promise<string> {
  if (file !== undefined) return fromFile(file);
  const env = process.env[PASSPHRASE_ENV];
  if (env !== undefined) return env;
  return promptHidden('wallet passphrase: ');
}

/** A new wallet's passphrase: asked twice when typed; must not be empty. */
export async function getNewPassphrase(file: string | undefined): Promise<string> {
  let p: string;
  if (file !== undefined || process.env[PASSPHRASE_ENV] !== undefined) p = await getPassphrase(file);
  else {
    p = await promptHidden('new wallet passphrase: ');
    const again = await promptHidden('repeat the passphrase: ');
    if (again !== p) throw new CliUsageError('the two passphrases differ');
  }
  if (p.length === 0) throw new CliUsageError('an empty passphrase would leave the wallet unprotected');
  return p;
}
