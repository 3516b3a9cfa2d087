/**
 * docker-compose.yml cannot be run on machines without a Docker engine (CI included), so this test
 * holds it to the code and to the local platform instead: every app is a service, each service sets
 * exactly the variables its config schema reads and with values the schema accepts, ports match the
 * apps' defaults and infra/local/ports.env and are published on 127.0.0.1 only, the infrastructure
 * matches what infra/local runs and creates (Kafka version, databases, Temporal version, namespace
 * and search attributes), and every build points at a Dockerfile stage that runs the app's main.ts.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configVariables, loadConfig } from '@tessera/platform';
import { parse } from 'yaml';
import type { z } from 'zod';
import { auditServiceConfigSchema } from '../../apps/audit-service/src/service';
import { authServiceConfigSchema } from '../../apps/auth-service/src/service';
import { deviceRegistryConfigSchema } from '../../apps/device-registry/src/service';
import { recoveryOrchestratorConfigSchema } from '../../apps/recovery-orchestrator/src/service';

const root = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const SCHEMAS: Readonly<Record<string, z.ZodObject>> = {
  'auth-service': authServiceConfigSchema,
  'device-registry': deviceRegistryConfigSchema,
  'recovery-orchestrator': recoveryOrchestratorConfigSchema,
  'audit-service': auditServiceConfigSchema,
};
const APPS = Object.keys(SCHEMAS);

// ---- docker-compose.yml ----

interface PortMapping {
  readonly hostIp?: string;
  readonly published: number;
  readonly target: number;
}
interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context?: string; readonly dockerfile?: string; readonly args?: Record<string, string> };
  readonly command?: string[];
  readonly environment?: Record<string, string | number | boolean>;
  readonly ports?: (string | { host_ip?: string; published?: string | number; target?: number })[];
  readonly volumes?: (string | { type?: string; source?: string; target?: string })[];
  readonly depends_on?: Record<string, { condition?: string }> | string[];
  readonly healthcheck?: { readonly test?: string[] | string; readonly disable?: boolean };
  readonly restart?: string;
}
interface ComposeFile {
  readonly services: Record<string, ComposeService>;
  readonly volumes?: Record<string, unknown>;
}

// Compose resolves `<<` merge keys (the file shares the services' common parts through anchors).
const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as ComposeFile;

/**
 * Compose interpolation with nothing set in the environment: `${VAR:-default}` becomes the default.
 * Strict (compose) mode refuses a variable without a default; the shell files keep theirs as written.
 */
function interpolate(value: string, strict = true): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return strict ? '$' : match;
    if (fallback !== undefined) return fallback;
    if (strict) throw new Error(`\${${name}} has no default: docker compose up would need it set`);
    return match;
  });
}

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service '${name}'`);
  return found;
}

function environment(name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([key, value]) => [key, interpolate(String(value))]));
}

function ports(name: string): PortMapping[] {
  return (service(name).ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return { hostIp: port.host_ip, published: Number(interpolate(String(port.published))), target: Number(port.target) };
    }
    const parts = interpolate(port).replace(/\/(tcp|udp)$/, '').split(':');
    if (parts.length === 3) return { hostIp: parts[0], published: Number(parts[1]), target: Number(parts[2]) };
    if (parts.length === 2) return { published: Number(parts[0]), target: Number(parts[1]) };
    return { published: Number.NaN, target: Number(parts[0]) };
  });
}

function dependsOn(name: string): Record<string, string | undefined> {
  const entries = service(name).depends_on ?? {};
  if (Array.isArray(entries)) return Object.fromEntries(entries.map((dependency) => [dependency, undefined]));
  return Object.fromEntries(Object.entries(entries).map(([dependency, spec]) => [dependency, spec?.condition]));
}

function volumeMounts(name: string): { source: string; target: string }[] {
  return (service(name).volumes ?? []).map((volume) => {
    if (typeof volume === 'object') return { source: volume.source ?? '', target: volume.target ?? '' };
    const [source, target] = volume.split(':');
    return { source, target };
  });
}

const healthcheckText = (name: string) => [service(name).healthcheck?.test ?? []].flat().join(' ');
const command = (name: string) => [service(name).command ?? []].flat().join(' ');

// ---- infra/local, the source of truth for the topology ----

/** `NAME=value` assignments of a shell/env file, with `${NAME:-default}` reduced to the default. */
function shellAssignments(path: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of read(path).split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(\S*)/.exec(line);
    if (match) values[match[1]] = interpolate(match[2], false);
  }
  return values;
}

/** The words of a bash array literal `NAME=(a b c)`; for `([key]=value …)` the key→value pairs. */
function shellArray(path: string, name: string): string[] {
  const match = new RegExp(`^(?:declare -A )?${name}=\\(([^)]*)\\)`, 'm').exec(read(path));
  if (!match) throw new Error(`${path} has no array ${name}`);
  return match[1].trim().split(/\s+/);
}
const shellMap = (path: string, name: string) =>
  Object.fromEntries(shellArray(path, name).map((pair) => /^\[([^\]]+)\]=(.*)$/.exec(pair)!.slice(1, 3)));

const versions = shellAssignments('infra/local/versions.env');
const localPorts = shellAssignments('infra/local/ports.env');
const pg = shellAssignments('infra/local/lib/postgres.sh');
const temporal = shellAssignments('infra/local/lib/temporal.sh');
const PG_DATABASES = shellArray('infra/local/lib/postgres.sh', 'PG_DATABASES');
const SEARCH_ATTRIBUTES = shellArray('infra/local/lib/temporal.sh', 'TEMPORAL_SEARCH_ATTRIBUTES');
const SERVICE_PORT = shellMap('infra/local/lib/services.sh', 'SERVICE_PORT');
const SERVICE_DB = shellMap('infra/local/lib/services.sh', 'SERVICE_DB');
const KAFKA_VERSION = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(read('infra/local/kafka/pom.xml'))![1];

// ---- the Dockerfile a build points at ----

interface DockerStage {
  readonly name?: string;
  readonly base: string;
  readonly env: Record<string, string>;
  readonly instructions: { readonly keyword: string; readonly args: string }[];
}

function dockerfileStages(path: string): { args: Record<string, string>; stages: DockerStage[] } {
  const lines = read(path)
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const current = stages.at(-1);
    if (keyword === 'FROM') {
      const [, base, name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest)!;
      const resolved = base.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, arg: string, fallback?: string) => args[arg] || fallback || '');
      stages.push({ name, base: resolved, env: { ...stages.find((stage) => stage.name === resolved)?.env }, instructions: [] });
    } else if (!current && keyword === 'ARG') {
      const [arg, value = ''] = rest.split('=');
      args[arg] = value;
    } else if (current) {
      current.instructions.push({ keyword, args: rest });
      if (keyword === 'ENV') {
        for (const pair of rest.split(/\s+/)) {
          const [key, ...value] = pair.split('=');
          current.env[key] = value.join('=');
        }
      }
    }
  }
  return { args, stages };
}

// ---- the tests ----

describe('docker-compose.yml', () => {
  it('runs every app in apps/ as a compose service', () => {
    const apps = readdirSync(join(root, 'apps')).filter((name) => existsSync(join(root, 'apps', name, 'src/service.ts')));
    // A new app needs its schema above and a service in the compose file.
    expect(apps.sort()).toEqual([...APPS].sort());
    for (const app of APPS) expect(Object.keys(compose.services)).toContain(app);
  });

  it('gives every ${VARIABLE} a default, so it runs without an .env file', () => {
    expect(() => interpolate(composeText.replace(/^\s*#.*$/gm, ''))).not.toThrow();
  });

  describe.each(APPS)('%s', (app) => {
    const schema = SCHEMAS[app];
    const port = schema.shape['HTTP_PORT'].parse(undefined) as number;

    it('sets exactly the environment variables its config schema reads', () => {
      // Compose sets AUTH_JWKS_JSON; AUTH_JWKS_URL is its alternative (one of the two, never both).
      const alternatives = ['AUTH_JWKS_URL'];
      const expected = configVariables(schema).filter((name) => !alternatives.includes(name));
      const actual = Object.keys(environment(app)).sort();
      expect({ missing: expected.filter((name) => !actual.includes(name)), unread: actual.filter((name) => !expected.includes(name)) }).toEqual({
        missing: [],
        unread: [],
      });
    });

    it('passes its config schema, listening on all interfaces at its default port', () => {
      const env = environment(app);
      // As the service reads it: loadConfig treats an empty variable as unset.
      expect(() => loadConfig(schema, env)).not.toThrow();
      expect(env['HTTP_HOST']).toBe('0.0.0.0');
      expect(Number(env['HTTP_PORT'])).toBe(port);
      expect(Number(SERVICE_PORT[app])).toBe(port);
    });

    it('publishes its port on 127.0.0.1 only, under the same number', () => {
      expect(ports(app)).toEqual([{ hostIp: '127.0.0.1', published: port, target: port }]);
    });

    it('uses its own database on the compose PostgreSQL, the compose Kafka and Temporal', () => {
      const env = environment(app);
      const url = new URL(env['DATABASE_URL']);
      expect(url.hostname).toBe('postgres');
      expect(url.username).toBe(pg['PG_USER_NAME']);
      expect(url.pathname).toBe(`/${SERVICE_DB[app]}`);
      expect(env['KAFKA_BROKERS']).toBe('kafka:9092');
      if ('TEMPORAL_ADDRESS' in schema.shape) {
        expect(env['TEMPORAL_ADDRESS']).toBe('temporal:7233');
        expect(env['TEMPORAL_NAMESPACE']).toBe(temporal['TEMPORAL_NAMESPACE']);
      }
    });

    it('is built from a Dockerfile stage that runs its main.ts on its port', () => {
      const build = service(app).build;
      expect(build?.dockerfile).toBeDefined();
      const dockerfile = join(build?.context ?? '.', build!.dockerfile!);
      expect(existsSync(join(root, dockerfile))).toBe(true);
      expect(build?.args?.['SERVICE']).toBe(app);
      const stage = dockerfileStages(dockerfile).stages.find((candidate) => candidate.name === app);
      expect(stage).toBeDefined();
      const cmd = stage!.instructions.filter((instruction) => instruction.keyword === 'CMD').at(-1);
      expect(JSON.parse(cmd!.args)).toEqual(['node', '--disable-warning=TimeoutNegativeWarning', '-r', '@swc-node/register', `apps/${app}/src/main.ts`]);
      expect(existsSync(join(root, 'apps', app, 'src/main.ts'))).toBe(true);
      expect(Number(stage!.env['HTTP_PORT'])).toBe(port);
    });

    it('starts after healthy infrastructure and created topics, restarts, and reports readiness', () => {
      const expected: Record<string, string> = {
        postgres: 'service_healthy',
        kafka: 'service_healthy',
        'kafka-init': 'service_completed_successfully',
      };
      if ('TEMPORAL_ADDRESS' in schema.shape) expected['temporal'] = 'service_healthy';
      expect(dependsOn(app)).toEqual(expected);
      expect(['always', 'unless-stopped', 'on-failure']).toContain(service(app).restart);
      expect(healthcheckText(app)).toContain('/health/ready');
    });
  });

  it('creates the declared topics once Kafka is healthy, with the repository script and nothing else', () => {
    expect(command('kafka-init')).toMatch(/infra\/local\/scripts\/kafka-admin\.ts create-topics$/);
    expect(existsSync(join(root, 'infra/local/scripts/kafka-admin.ts'))).toBe(true);
    expect(environment('kafka-init')).toEqual({ KAFKA_BROKERS: 'kafka:9092' });
    expect(dependsOn('kafka-init')).toEqual({ kafka: 'service_healthy' });
    expect(service('kafka-init').build?.args?.['SERVICE']).toBeDefined();
  });

  describe('PostgreSQL', () => {
    it('is the official image at a pinned major.minor no older than the local platform accepts', () => {
      const [, major] = /^postgres:(\d+)\.\d+(?:-[a-z]+)?$/.exec(service('postgres').image ?? '') ?? [];
      expect(Number(major)).toBeGreaterThanOrEqual(Number(versions['POSTGRES_MIN_MAJOR']));
    });

    it('publishes 5432 on 127.0.0.1 at the local platform port and keeps data in a named volume', () => {
      expect(ports('postgres')).toEqual([{ hostIp: '127.0.0.1', published: Number(localPorts['TESSERA_PG_PORT']), target: 5432 }]);
      expect(volumeMounts('postgres')).toContainEqual({ source: 'postgres-data', target: '/var/lib/postgresql/data' });
      expect(healthcheckText('postgres')).toContain('pg_isready');
    });

    it('creates the role and every database infra/local/lib/postgres.sh creates', () => {
      const init = volumeMounts('postgres').find((mount) => mount.target === '/docker-entrypoint-initdb.d');
      expect(init).toBeDefined();
      const dir = join(root, init!.source);
      expect(statSync(dir).isDirectory()).toBe(true);
      const scripts = readdirSync(dir)
        .filter((file) => /\.(sh|sql)$/.test(file))
        .map((file) => readFileSync(join(dir, file), 'utf8'))
        .join('\n');
      expect(PG_DATABASES.length).toBeGreaterThan(0);
      expect(scripts).toMatch(new RegExp(`CREATE ROLE ${pg['PG_USER_NAME']} LOGIN`));
      for (const database of PG_DATABASES) expect(scripts).toContain(`CREATE DATABASE ${database} OWNER ${pg['PG_USER_NAME']};`);
    });
  });

  describe('Kafka', () => {
    const env = () => environment('kafka');

    it('is apache/kafka at the version of infra/local/kafka/pom.xml, one KRaft node, topics never auto-created', () => {
      expect(service('kafka').image).toBe(`apache/kafka:${KAFKA_VERSION}`);
      expect(env()['KAFKA_PROCESS_ROLES']).toBe('broker,controller');
      expect(env()['KAFKA_AUTO_CREATE_TOPICS_ENABLE']).toBe('false');
      expect(env()['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR']).toBe('1');
    });

    it('advertises kafka:9092 to the compose network and 127.0.0.1 on the published local platform port to the host', () => {
      const kafkaPort = Number(localPorts['TESSERA_KAFKA_PORT']);
      const advertised = env()['KAFKA_ADVERTISED_LISTENERS'].split(',');
      expect(advertised).toContain('PLAINTEXT://kafka:9092');
      const host = advertised.find((listener) => listener.includes('://127.0.0.1:'));
      expect(host).toBe(`HOST://127.0.0.1:${kafkaPort}`);
      const [mapping] = ports('kafka');
      expect(mapping).toEqual({ hostIp: '127.0.0.1', published: kafkaPort, target: mapping.target });
      expect(env()['KAFKA_LISTENERS'].split(',')).toContain(`HOST://:${mapping.target}`);
      expect(volumeMounts('kafka')).toContainEqual({ source: 'kafka-data', target: env()['KAFKA_LOG_DIRS'] });
      expect(healthcheckText('kafka')).toContain('--bootstrap-server');
    });
  });

  describe('Temporal', () => {
    it('is the pinned Temporal CLI dev server of infra/local/versions.env', () => {
      expect(service('temporal').image).toBe(`temporalio/temporal:${versions['TEMPORAL_CLI_VERSION']}`);
      expect(command('temporal')).toMatch(/^server start-dev /);
    });

    it('publishes the frontend (7233) and the Web UI (8233) on 127.0.0.1', () => {
      expect(ports('temporal')).toEqual([
        { hostIp: '127.0.0.1', published: Number(localPorts['TESSERA_TEMPORAL_PORT']), target: 7233 },
        { hostIp: '127.0.0.1', published: Number(localPorts['TESSERA_TEMPORAL_UI_PORT']), target: 8233 },
      ]);
      expect(command('temporal')).toContain('--port 7233');
      expect(command('temporal')).toContain('--ui-port 8233');
    });

    it('registers the namespace and every search attribute of infra/local/lib/temporal.sh', () => {
      expect(command('temporal')).toContain(`--namespace ${temporal['TEMPORAL_NAMESPACE']}`);
      expect(SEARCH_ATTRIBUTES.length).toBeGreaterThan(0);
      for (const attribute of SEARCH_ATTRIBUTES) expect(command('temporal')).toContain(`--search-attribute ${attribute}`);
      expect(healthcheckText('temporal')).toContain(temporal['TEMPORAL_NAMESPACE']);
      expect(volumeMounts('temporal').map((mount) => mount.source)).toContain('temporal-data');
    });
  });

  it('binds every published port of every service to 127.0.0.1', () => {
    for (const name of Object.keys(compose.services)) {
      for (const mapping of ports(name)) expect({ service: name, hostIp: mapping.hostIp }).toEqual({ service: name, hostIp: '127.0.0.1' });
    }
  });

  it('pins every image to a version', () => {
    for (const [name, { image }] of Object.entries(compose.services)) {
      if (image === undefined) continue;
      expect({ service: name, image }).toEqual({ service: name, image: expect.stringMatching(/^[a-z0-9./_-]+:(?!latest$)[\w.-]+$/) });
    }
  });

  it('waits on conditions only, and only on services that can satisfy them', () => {
    for (const name of Object.keys(compose.services)) {
      for (const [dependency, condition] of Object.entries(dependsOn(name))) {
        expect({ service: name, dependency, condition }).toEqual({
          service: name,
          dependency,
          condition: expect.stringMatching(/^service_(healthy|completed_successfully)$/),
        });
        if (condition === 'service_healthy') {
          const check = service(dependency).healthcheck;
          expect({ dependency, healthcheck: Boolean(check?.test) && !check?.disable }).toEqual({ dependency, healthcheck: true });
        } else {
          expect({ dependency, restart: service(dependency).restart }).toEqual({ dependency, restart: 'no' });
        }
      }
    }
  });

  it('builds every image it builds from an existing Dockerfile, choosing one of its stages', () => {
    for (const [name, { build }] of Object.entries(compose.services)) {
      if (!build) continue;
      const dockerfile = join(build.context ?? '.', build.dockerfile ?? 'Dockerfile');
      expect({ service: name, dockerfile, exists: existsSync(join(root, dockerfile)) }).toEqual({ service: name, dockerfile, exists: true });
      const stage = build.args?.['SERVICE'];
      const found = dockerfileStages(dockerfile).stages.some((candidate) => candidate.name === stage);
      expect({ service: name, stage, found }).toEqual({ service: name, stage, found: true });
    }
  });

  it('declares every named volume it mounts', () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const name of Object.keys(compose.services)) {
      for (const { source } of volumeMounts(name)) {
        if (!source.startsWith('.') && !source.startsWith('/')) expect(declared).toContain(source);
      }
    }
  });
});

describe('infra/docker/service.Dockerfile', () => {
  const dockerfile = 'infra/docker/service.Dockerfile';
  const { stages } = dockerfileStages(dockerfile);
  const runtime = () => stages.find((stage) => stage.name === 'runtime')!;

  it('builds on the Node.js release of infra/local/versions.env, slim Debian bookworm', () => {
    const external = stages.filter((stage) => !stages.some((other) => other.name === stage.base));
    expect(external.length).toBeGreaterThan(0);
    for (const stage of external) expect(stage.base).toBe(`node:${versions['NODE_VERSION']}-bookworm-slim`);
    expect(service('temporal-volume-init').image).toBe(`node:${versions['NODE_VERSION']}-bookworm-slim`);
  });

  it('installs exactly the lockfile and runs in production mode as a non-root user with a health check', () => {
    const deps = stages.find((stage) => stage.name === 'deps')!;
    expect(deps.instructions.some(({ keyword, args }) => keyword === 'RUN' && /\bnpm ci\b/.test(args))).toBe(true);
    expect(runtime().env).toMatchObject({ NODE_ENV: 'production', TESSERA_ENV: 'production' });
    const user = runtime().instructions.filter(({ keyword }) => keyword === 'USER').at(-1)?.args ?? 'root';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const healthcheck = runtime().instructions.find(({ keyword }) => keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toContain('/health/ready');
    expect(existsSync(join(root, 'infra/docker/healthcheck.cjs'))).toBe(true);
  });

  it('has a .dockerignore that keeps local state and dependencies out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim());
    for (const entry of ['node_modules', '.local', '.tools', '.nx', 'dist', 'coverage', '.git']) expect(ignored).toContain(entry);
  });
});
