/**
 * Structured logging (pino). Every subsystem gets a child logger with `{ module }`, so an operator
 * can filter one subsystem's lines. Tests pass `silentLogger()`.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(
  opts: { level?: LogLevel; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: opts.name === undefined ? {} : { name: opts.name },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
