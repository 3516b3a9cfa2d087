import type { Server } from 'node:http';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { type GrpcOptions, Transport } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import type { DestinationStream } from 'pino';
import type { EntitySchema, MigrationInterface } from 'typeorm';
import type { z } from 'zod';
import { AuthGuard } from './auth/auth.guard';
import { JwtVerifier, type JwtVerifierOptions } from './auth/jwt-verifier';
import { type BaseConfig, ConfigError, loadConfig } from './config';
import { databaseReadiness, openDatabase } from './database/database';
import { Readiness } from './health/readiness';
import { jsonBody } from './http/body';
import { ApiExceptionFilter } from './http/exception.filter';
import { createKafka, kafkaReadiness } from './kafka/kafka';
import { CORRELATION_HEADER, acceptCorrelationId, runWithCorrelation } from './observability/correlation';
import { JsonLogger, createLogger } from './observability/logger';
import { Metrics } from './observability/metrics';
import type { PlatformResources } from './platform.module';

/** What a service declares about itself; the platform does the rest the same way for all four. */
export interface ServiceDefinition<S extends z.ZodObject> {
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly configSchema: S;
  readonly entities: readonly ((abstract new (...args: never[]) => unknown) | EntitySchema)[];
  readonly migrations: readonly (new () => MigrationInterface)[];
  /** gRPC services from .proto files in libs/shared/contracts/proto, served on GRPC_PORT beside HTTP. */
  readonly grpc?: { readonly packages: readonly string[]; readonly protoPaths: readonly string[] };
  /** The root module, built with the opened resources. It should import PlatformModule.register(resources). */
  rootModule(resources: PlatformResources<z.infer<S> & BaseConfig>): DynamicModule;
}

export interface RunningService<C extends BaseConfig = BaseConfig> {
  readonly app: INestApplication;
  readonly url: string;
  /** host:port of the gRPC server, when the service serves gRPC. */
  readonly grpcUrl?: string;
  readonly resources: PlatformResources<C>;
  /** Graceful stop: not ready → drain HTTP → close modules (consumers, workers) → close the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Install SIGTERM/SIGINT handlers that stop gracefully and exit (the process entry point does). */
  readonly handleSignals?: boolean;
  readonly logDestination?: DestinationStream;
}

export async function startService<S extends z.ZodObject>(
  definition: ServiceDefinition<S>,
  options: StartOptions = {},
): Promise<RunningService<z.infer<S> & BaseConfig>> {
  const config = loadConfig(definition.configSchema, options.env ?? process.env) as z.infer<S> & BaseConfig;
  const logger = createLogger(definition.name, config.LOG_LEVEL, options.logDestination);
  const metrics = new Metrics(definition.name);
  const readiness = new Readiness();
  const clientId = config.KAFKA_CLIENT_ID ?? definition.name;

  const dataSource = await openDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    entities: definition.entities,
    migrations: definition.migrations,
    applicationName: definition.name,
  });
  readiness.register(databaseReadiness(dataSource));
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId, logger });
  readiness.register(kafkaReadiness({ brokers: config.KAFKA_BROKERS, clientId, logger }));

  const resources: PlatformResources<z.infer<S> & BaseConfig> = {
    serviceName: definition.name, config, logger, metrics, readiness, dataSource, kafka,
  };
  const verifier = new JwtVerifier({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    jwks: jwksSource(config),
  });
  const app = await NestFactory.create<NestExpressApplication>(definition.rootModule(resources), {
    logger: new JsonLogger(logger),
    bodyParser: false,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(observeRequest(resources));
  app.use(...jsonBody(config.HTTP_BODY_LIMIT_BYTES));
  app.use((request: Request, _response: Response, next: NextFunction) =>
    runWithCorrelation((request as RequestWithId).correlationId as string, next),
  );
  app.useGlobalFilters(new ApiExceptionFilter(logger));
  app.useGlobalGuards(new AuthGuard(verifier, app.get(Reflector)));
  serveOpenApi(app, definition);

  let grpcUrl: string | undefined;
  if (definition.grpc) {
    const grpcPort = (config as { GRPC_PORT?: number }).GRPC_PORT;
    if (grpcPort === undefined) throw new ConfigError(['GRPC_PORT: required by a service that serves gRPC']);
    grpcUrl = `${config.HTTP_HOST}:${grpcPort}`;
    app.connectMicroservice<GrpcOptions>(
      {
        transport: Transport.GRPC,
        options: {
          package: [...definition.grpc.packages],
          protoPath: [...definition.grpc.protoPaths],
          url: grpcUrl,
          loader: { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
          maxReceiveMessageLength: config.HTTP_BODY_LIMIT_BYTES,
        },
      },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
  }

  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  const server = app.getHttpServer() as Server;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
  const url = `http://${config.HTTP_HOST}:${port}`;
  logger.info({ url, docs: `${url}/docs`, grpc: grpcUrl }, `${definition.name} listening`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      readiness.beginShutdown();
      await drain(server, config.SHUTDOWN_GRACE_MS);
      await app.close();
      await dataSource.destroy().catch(() => undefined);
      logger.info(`${definition.name} stopped`);
      logger.flush();
    })());

  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down');
        stop().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return { app, url, grpcUrl, resources, stop };
}

function jwksSource(config: BaseConfig): JwtVerifierOptions['jwks'] {
  if (config.AUTH_JWKS_URL && config.AUTH_JWKS_JSON) throw new ConfigError(['AUTH_JWKS_URL, AUTH_JWKS_JSON: set one, not both']);
  if (config.AUTH_JWKS_URL) return { url: config.AUTH_JWKS_URL };
  if (config.AUTH_JWKS_JSON) {
    try {
      JSON.parse(config.AUTH_JWKS_JSON);
    } catch {
      throw new ConfigError(['AUTH_JWKS_JSON: not valid JSON']);
    }
    return { json: config.AUTH_JWKS_JSON };
  }
  throw new ConfigError(['AUTH_JWKS_URL or AUTH_JWKS_JSON: required (the public keys of the issuer of bearer tokens)']);
}

/** Stops accepting connections and waits for in-flight requests, closing idle keep-alive sockets. */
async function drain(server: Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

interface RequestWithId extends Request {
  correlationId?: string;
}

/** Correlation id on every response; duration and count per route template; one access-log line per request. */
function observeRequest(resources: PlatformResources) {
  const { metrics, logger } = resources;
  return (request: RequestWithId, response: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const id = (request.correlationId = acceptCorrelationId(request.header(CORRELATION_HEADER)));
    response.setHeader(CORRELATION_HEADER, id);
    response.on('finish', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = request.route?.path ? `${request.baseUrl}${request.route.path}` : 'unmatched';
        const labels = { method: request.method, route, status: String(response.statusCode) };
        metrics.httpDuration.observe(labels, seconds);
        metrics.httpRequests.inc(labels);
        const quiet = route.startsWith('/health') || route === '/metrics';
        logger[quiet ? 'debug' : 'info'](
          { correlationId: id, http: { ...labels, ms: Math.round(seconds * 1e4) / 10 } },
          'request completed',
        );
    });
    next();
  };
}

function serveOpenApi(app: INestApplication, definition: ServiceDefinition<z.ZodObject>): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(`Tessera ${definition.name}`)
      .setDescription(definition.description)
      .setVersion(definition.version)
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json', customSiteTitle: `Tessera ${definition.name}` });
}

/** The process entry point of a service: start, stop gracefully on SIGTERM/SIGINT, exit 1 on a failed start. */
export async function runServiceProcess<S extends z.ZodObject>(definition: ServiceDefinition<S>): Promise<void> {
  try {
    await startService(definition, { handleSignals: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: definition.name, message: `failed to start: ${message}` })}\n`);
    process.exit(1);
  }
}
