import { type INestApplication, ValidationPipe } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { ValidationError } from 'class-validator';
import { DomainError } from './common/errors/domain-error.js';
import { AppConfig } from './config/app-config.js';

export const SWAGGER_PATH = 'api/docs';

function flatten(errors: ValidationError[], prefix = ''): { field: string; message: string }[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], `${field}.`)];
  });
}

/** Everything main.ts and the e2e tests share: pipes, Swagger, shutdown hooks. */
export function configureApp<T extends INestApplication>(app: T): T {
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => {
        const list = flatten(errors);
        return new DomainError(
          'VALIDATION_FAILED',
          list.map((e) => `${e.field}: ${e.message}`).join('; '),
          {
            errors: list,
          },
        );
      },
    }),
  );
  const express = app as unknown as NestExpressApplication;
  express.disable?.('x-powered-by');
  // the failure limiter counts per client address (req.ip)
  express.set?.('trust proxy', app.get(AppConfig, { strict: false }).trustProxy);
  app.enableShutdownHooks();
  const document = buildOpenApi(app);
  SwaggerModule.setup(SWAGGER_PATH, app, document, {
    jsonDocumentUrl: `${SWAGGER_PATH}-json`,
    swaggerOptions: { persistAuthorization: false },
  });
  return app;
}

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Sidekiq Supervisor')
    .setDescription(
      'See and steer Sidekiq: job lifecycle history, Sidekiq state in Redis, metrics. ' +
        'Every route needs a PRIVATE-TOKEN header except those marked public.',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'PRIVATE-TOKEN' }, 'private-token')
    .addSecurityRequirements('private-token')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  // @Public() routes carry x-public: they need no token
  for (const path of Object.values(document.paths)) {
    for (const op of Object.values(path) as { 'x-public'?: boolean; security?: unknown[] }[]) {
      if (op && typeof op === 'object' && op['x-public']) {
        op.security = [];
      }
    }
  }
  return document;
}
