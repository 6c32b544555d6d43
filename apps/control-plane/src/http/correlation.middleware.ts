import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { logger } from '../infrastructure/logger';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Correlation id in and out, plus one structured access-log line per request (never the token). */
export function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.header('x-correlation-id');
  const correlationId = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
  (req as Request & { correlationId: string }).correlationId = correlationId;
  res.setHeader('X-Correlation-Id', correlationId);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const actor = (req as Request & { actor?: { subject: string } }).actor;
    logger.info(
      {
        correlationId,
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        subject: actor?.subject,
      },
      'http',
    );
  });
  next();
}
