/**
 * The slice of a pino logger the sinks use (pass a pino child logger; libs/audit does not import pino itself so
 * the offline verifier stays dependency-free). Sinks log sink names, positions, counts and error kinds; never
 * tokens, API keys or record content.
 */
export interface SinkLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentSinkLogger: SinkLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
