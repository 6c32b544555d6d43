import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from './config/config';
import { AppModule } from './app.module';
import { validationPipe } from './http/validation';
import { json } from 'express';
import { bodyParserProblems } from './http/problem.filter';
import { yamlBody } from './http/yaml-body';
import { assertEveryRouteDeclared } from './http/route-audit';
import { Infrastructure, openInfrastructure } from './infrastructure/infrastructure';
import { logger } from './infrastructure/logger';
import { AdminModuleControllers, Controllers } from './routes';

export interface RunningApp {
  app: NestExpressApplication;
  infra: Infrastructure;
  url: string;
  close(): Promise<void>;
}

/** Builds and starts the control plane; used by `main.ts`, the e2e tests and the benchmarks alike. */
export async function startControlPlane(config: AppConfig): Promise<RunningApp> {
  assertEveryRouteDeclared([...Controllers, ...AdminModuleControllers]);
  logger.level = config.logLevel;
  const infra = await openInfrastructure(config);
  try {
    const app = await NestFactory.create<NestExpressApplication>(AppModule.with(infra), {
      logger: config.logLevel === 'silent' ? false : ['error', 'warn'],
      bodyParser: false,
    });
    app.disable('x-powered-by');
    // Body parsing before Nest, with its own problem+json answer for malformed or oversized bodies.
    app.use(json({ limit: '256kb' }));
    app.use('/v1/policies', yamlBody);
    app.use(bodyParserProblems);
    app.useGlobalPipes(validationPipe());
    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('OpenKCM CMK')
        .setDescription('Governance control plane for customer-managed keys. Errors are RFC 9457 problem+json.')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json' });
    app.enableShutdownHooks();
    await app.listen(config.port, config.host);
    await infra.projections.start();
    const address = app.getHttpServer().address();
    const url = `http://${config.host}:${typeof address === 'object' && address ? address.port : config.port}`;
    return {
      app,
      infra,
      url,
      async close() {
        await app.close();
        await infra.close();
      },
    };
  } catch (e) {
    await infra.close().catch(() => undefined);
    throw e;
  }
}

export { logger };
