import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { EVENT_STORE } from '@cmk/event-store';
import { AdminModuleControllers, Controllers, Handlers } from './routes';
import { APP_CONFIG } from './config/config.provider';
import { AuthGuard, JWT_VERIFIER } from './http/auth.guard';
import { ProblemFilter } from './http/problem.filter';
import { correlationMiddleware } from './http/correlation.middleware';
import { IDEMPOTENCY_STORE, IdempotencyInterceptor } from './http/idempotency/idempotency.interceptor';
import { MetricsInterceptor } from './http/metrics.interceptor';
import { DEFAULT_DENIED_ATTEMPTS, DENIED_ATTEMPTS, DeniedAttemptsRecorder } from './http/denied-attempts/denied-attempts.recorder';
import { logger } from './infrastructure/logger';
import { Infrastructure } from './infrastructure/infrastructure';
import { METRICS } from './infrastructure/metrics';
import { Aggregates } from './shared/aggregates';
import { Facts } from './shared/facts';
import { PROJECTIONS, QUERIES, ReadSide } from './shared/read-side';
import { TenantHistory } from './audit/tenant-history';
import { PolicyImpacts } from './policies/policy-impact';
import { StateAsOf } from './shared/state-as-of';
import { EMBEDDED_MESH } from './embedded/workload-token.http.controller';
import { KEY_PROVIDERS } from './key-links/providers/key-provider-registry';
import { LinkedKeys } from './key-links/providers/linked-keys';
import { KeyHealthSync } from './key-links/sync-key-link/key-health-sync';
import { KeyHealthScheduler } from './key-links/sync-key-link/key-health-scheduler';
import { DB_POOL, SchedulerLock } from './key-links/rotation-scheduler/scheduler-lock';
import { KeyRotationScheduler } from './key-links/rotation-scheduler/key-rotation-scheduler';
import { AuditLeaves, READ_DATA_SOURCE } from './audit/sealer/audit-leaves';
import { AUDIT_SIGNER, AuditSealer } from './audit/sealer/audit-sealer';
import { SiemExport } from './audit/siem/siem-export';
import { ApprovalProviders } from './approvals/approval-providers';

@Module({})
export class AppModule implements NestModule {
  static with(infra: Infrastructure): DynamicModule {
    return {
      module: AppModule,
      imports: [CqrsModule.forRoot()],
      controllers: [...Controllers, ...AdminModuleControllers],
      providers: [
        { provide: APP_CONFIG, useValue: infra.config },
        { provide: EVENT_STORE, useValue: infra.store },
        { provide: PROJECTIONS, useValue: infra.projections },
        { provide: QUERIES, useValue: infra.queries },
        { provide: JWT_VERIFIER, useValue: infra.verifier },
        { provide: IDEMPOTENCY_STORE, useValue: infra.idempotency },
        { provide: METRICS, useValue: infra.metrics.registry },
        { provide: 'HTTP_METRICS', useValue: infra.metrics },
        { provide: DENIED_ATTEMPTS, useFactory: () => new DeniedAttemptsRecorder(infra.store, infra.metrics, logger, { ...DEFAULT_DENIED_ATTEMPTS, rateLimit: infra.config.deniedAttempts }) },
        ...(infra.embedded ? [{ provide: EMBEDDED_MESH, useValue: infra.embedded }] : []),
        { provide: KEY_PROVIDERS, useValue: infra.keyProviders },
        { provide: DB_POOL, useValue: infra.pool },
        { provide: AUDIT_SIGNER, useValue: infra.auditSigner },
        { provide: READ_DATA_SOURCE, useValue: infra.dataSource },
        AuditLeaves,
        AuditSealer,
        SiemExport,
        SchedulerLock,
        KeyRotationScheduler,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_INTERCEPTOR, useClass: MetricsInterceptor },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        Aggregates,
        Facts,
        ReadSide,
        TenantHistory,
        PolicyImpacts,
        StateAsOf,
        LinkedKeys,
        KeyHealthSync,
        KeyHealthScheduler,
        ...Handlers,
        ...ApprovalProviders,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(correlationMiddleware).forRoutes('*');
  }
}
