import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable } from 'rxjs';
import { finalize } from 'rxjs/operators';
import type { Metrics } from '../infrastructure/metrics';

/** Request counts and latency per route template (never per raw URL: ids would explode cardinality). */
@Injectable()
export class MetricsInterceptor implements NestInterceptor {
  constructor(@Inject('HTTP_METRICS') private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const stop = this.metrics.httpDuration.startTimer();
    return next.handle().pipe(
      finalize(() => {
        const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
        stop({ method: req.method, route });
        res.once('finish', () => this.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) }));
      }),
    );
  }
}
