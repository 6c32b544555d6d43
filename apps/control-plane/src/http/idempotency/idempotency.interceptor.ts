import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { from, Observable, of, throwError } from 'rxjs';
import { catchError, mergeMap } from 'rxjs/operators';
import { ProblemError } from '../problem';
import { IdempotencyStore } from './idempotency.store';

export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');
const KEY = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ['etag', 'location'];

/** `Idempotency-Key`: the same key with the same request replays the first response; another body is refused. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(@Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request & { actor?: { subject: string } }>();
    const res = context.switchToHttp().getResponse<Response>();
    const key = req.header('idempotency-key');
    if (key === undefined || !['POST', 'PATCH', 'DELETE', 'PUT'].includes(req.method) || !req.actor) return next.handle();
    if (!KEY.test(key))
      return throwError(() => new ProblemError(400, 'validation-error', 'Request validation failed', 'Idempotency-Key must be 1-255 visible ASCII characters', { errors: [{ field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' }] }));
    const owner = req.actor.subject;
    const hash = createHash('sha256').update(`${req.method} ${req.originalUrl}\n${JSON.stringify(req.body ?? null)}`).digest('hex');
    return from(this.store.claim(owner, key, hash)).pipe(
      mergeMap((claim) => {
        switch (claim.kind) {
          case 'mismatch':
            return throwError(() => new ProblemError(422, 'idempotency-key-reused', 'Idempotency-Key reused', 'this Idempotency-Key was already used with a different request'));
          case 'in-flight':
            return throwError(() => new ProblemError(409, 'idempotency-key-in-flight', 'Request still in progress', 'a request with this Idempotency-Key is still being processed; retry shortly', {}, { 'Retry-After': '1' }));
          case 'replay':
            res.status(claim.response.status);
            for (const [h, v] of Object.entries(claim.response.headers)) res.setHeader(h, v);
            res.setHeader('Idempotent-Replayed', 'true');
            return of(claim.response.body);
          case 'claimed':
            return next.handle().pipe(
              mergeMap((body) => {
                const headers = Object.fromEntries(REPLAYED_HEADERS.filter((h) => res.getHeader(h) !== undefined).map((h) => [h, String(res.getHeader(h))]));
                return from(this.store.complete(owner, key, { status: res.statusCode, body, headers }).then(() => body));
              }),
              catchError((err) => from(this.store.release(owner, key)).pipe(mergeMap(() => throwError(() => err)))),
            );
        }
      }),
    );
  }
}
