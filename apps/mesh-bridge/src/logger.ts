import pino from 'pino';

/**
 * Structured logs. The bridge handles key references and tenant ids, never key material or tokens; redaction is
 * the safety net should a dump of a message or an error ever carry one.
 */
export function createLogger(level: string) {
  return pino({
    level,
    base: { service: 'openkcm-cmk-mesh-bridge' },
    redact: { paths: ['token', '*.token', 'keyMaterial', '*.keyMaterial', 'password', '*.password'], censor: '[redacted]' },
  });
}
