import pino, { Logger } from 'pino';

/**
 * Structured logs. The worker never logs key material, plaintext, blobs or tokens on purpose; redaction is the
 * safety net for an accidental dump of a request or an error object.
 */
export function createWorkerLogger(level: string = process.env.CMK_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'openkcm-cmk-regional-worker' },
    redact: {
      paths: ['authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'token', '*.token', 'plaintext', '*.plaintext', 'ciphertextBlob', '*.ciphertextBlob', 'key', '*.key'],
      censor: '[redacted]',
    },
  });
}
