import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
} from '@nestjs/swagger';
import { ErrorBodyDto } from './common/errors/error-body.dto.js';
import { GITLAB_API_PREFIX, gitlabJson } from './common/gitlab-json.js';
import { AppValidationPipe } from './common/validation/app-validation.pipe.js';
import { AppConfig } from './config/app-config.js';

export const SWAGGER_PATH = 'api/docs';

/** Everything main.ts and the e2e tests share: pipes, Swagger, shutdown hooks. */
export function configureApp<T extends INestApplication>(app: T): T {
  app.useGlobalPipes(new AppValidationPipe());
  // ahead of Nest's own middleware and routes (registered at init), so errors they raise are covered
  app.use(GITLAB_API_PREFIX, gitlabJson);
  answerClientErrorsInShape(app.getHttpServer() as Server);
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

/**
 * Requests Node's HTTP parser refuses before Express sees them (headers over 16 KB, a malformed
 * request line) get the one error shape too, instead of Node's bare status line.
 */
function answerClientErrorsInShape(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      statusCode: status,
      code: tooLarge ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST',
      message: tooLarge
        ? 'The request line and headers are larger than 16 KB'
        : 'The request could not be parsed',
      details: {},
    });
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });
}

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Sidekiq Supervisor')
    .setDescription(
      'See and steer Sidekiq: job lifecycle history, Sidekiq state in Redis, metrics. ' +
        'Every route needs a token, in a PRIVATE-TOKEN header or as Authorization: Bearer, ' +
        'except those marked public.',
    )
    .setVersion('1')
    // relative: the spec is served by the service it describes (/api/docs-json)
    .addServer('/')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'PRIVATE-TOKEN' }, 'private-token')
    // the same tokens as Authorization: Bearer (what Prometheus can send); either requirement will do
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: undefined }, 'bearer')
    .addSecurityRequirements('private-token')
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
    extraModels: [ErrorBodyDto],
  });
  for (const path of Object.values(document.paths)) {
    for (const op of Object.values(path) as unknown[]) {
      if (isOperation(op)) {
        completeOperation(op);
      }
    }
  }
  collapseSingleAllOf(document);
  return document;
}

type Operation = OperationObject & { 'x-public'?: boolean };

function isOperation(value: unknown): value is Operation {
  return typeof value === 'object' && value !== null && 'responses' in value;
}

const ERROR_BODY = { $ref: '#/components/schemas/ErrorBody' };
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ERROR_BODY } },
});

/**
 * The errors every route shares come from global parts (Node's HTTP parser, the body parser, the
 * validation pipe, the exception filter), so they are added here rather than on each route: a
 * body is parsed (or refused) before routing, whatever the route.
 */
function completeOperation(op: Operation): void {
  // @Public() routes carry x-public: they need no token
  if (op['x-public']) {
    op.security = [];
  }
  const responses = op.responses;
  const add = (status: string, description: string) => {
    responses[status] ??= errorResponse(description);
  };
  add(
    '400',
    (op.parameters?.length ?? 0) > 0 || op.requestBody
      ? 'Invalid input; details.errors names each field at fault'
      : 'A body was sent that is not valid JSON or is nested too deep',
  );
  add('413', 'The request body is too large');
  add('415', 'A body was sent with a Content-Type other than JSON or a form');
  add('431', 'The request line and headers are larger than 16 KB');
  add('default', 'Any other error, in the same shape (500 INTERNAL_ERROR is logged)');
  for (const [status, response] of Object.entries(responses)) {
    const error = status === 'default' || Number(status) >= 400;
    if (error && response && !('$ref' in response)) {
      // one error shape whatever raised it (ErrorBody): the filter rewrites terminus' 503 too
      response.content = { 'application/json': { schema: ERROR_BODY } };
    }
  }
}

/** Nest wraps a lone $ref in allOf to allow siblings; without siblings it is only noise. */
function collapseSingleAllOf(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(collapseSingleAllOf);
    return;
  }
  if (typeof node !== 'object' || node === null) {
    return;
  }
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    const schema = value as { allOf?: unknown[] } | null;
    if (
      typeof schema === 'object' &&
      schema !== null &&
      Object.keys(schema).length === 1 &&
      Array.isArray(schema.allOf) &&
      schema.allOf.length === 1
    ) {
      record[key] = schema.allOf[0];
    }
    collapseSingleAllOf(record[key]);
  }
}
