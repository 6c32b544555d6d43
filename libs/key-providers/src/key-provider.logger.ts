/**
 * The slice of a pino logger the adapters use (pass a pino child logger). Adapters log key references, provider
 * status names and counters; never key material, plaintext, PINs or tokens.
 */
export interface KeyProviderLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: KeyProviderLogger = {
  info: () => undefined,
  warn: () => undefined,
};
