// The CLI's side of logging: --log-level and --log-format checked as usage errors (exit 2) naming the values
// there are; the loggers themselves are runner/log.ts.
import { CliError } from './common.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../runner/log.ts';

export { createLogger, logDestination, LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../runner/log.ts';

/** An unknown level or format is a usage error (exit 2) naming the ones there are. */
export function parseLogLevel(v: string, where = '--log-level'): string {
  if (!(LOG_LEVELS as readonly string[]).includes(v))
    throw new CliError(`${where} must be one of ${LOG_LEVELS.join(', ')}; got '${v}'`);
  return v;
}

export function parseLogFormat(v: string, where = '--log-format'): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(v))
    throw new CliError(`${where} must be one of ${LOG_FORMATS.join(', ')}; got '${v}'`);
  return v as LogFormat;
}
