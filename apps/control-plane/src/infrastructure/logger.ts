import pino from 'pino';

/**
 * Structured logs. Redaction is a safety net: code never logs tokens or key material on purpose, and these
 * paths make sure an accidental `req` or header dump does not leak them either.
 */
export const logger = pino({
  level: process.env.CMK_LOG_LEVEL ?? 'info',
  base: { service: 'openkcm-cmk' },
  redact: {
    paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token', 'privateKey', '*.privateKey', 'keyMaterial', '*.keyMaterial'],
    censor: '[redacted]',
  },
});
