/**
 * The Kubernetes manifests against the services' code: each app has a Deployment, Service and
 * PodDisruptionBudget; its environment names only variables its config schema reads and, filled from
 * the ConfigMap (and a placeholder for the Secret), passes that schema; ports and probes match the app.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { configVariables } from '@tessera/platform';
import { parse, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { auditServiceConfigSchema } from '../../apps/audit-service/src/service';
import { authServiceConfigSchema } from '../../apps/auth-service/src/service';
import { deviceRegistryConfigSchema } from '../../apps/device-registry/src/service';
import { recoveryOrchestratorConfigSchema } from '../../apps/recovery-orchestrator/src/service';

const SCHEMAS: Readonly<Record<string, z.ZodObject>> = {
  'auth-service': authServiceConfigSchema,
  'device-registry': deviceRegistryConfigSchema,
  'recovery-orchestrator': recoveryOrchestratorConfigSchema,
  'audit-service': auditServiceConfigSchema,
};

interface Probe {
  readonly httpGet?: { readonly path?: string; readonly port?: string | number };
}
interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly configMapKeyRef?: { readonly name: string; readonly key: string };
    readonly secretKeyRef?: { readonly name: string; readonly key: string };
  };
}
interface Container {
  readonly name: string;
  readonly image: string;
  readonly ports?: { readonly name?: string; readonly containerPort: number }[];
  readonly env?: EnvVar[];
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly resources?: { readonly requests?: Record<string, string>; readonly limits?: Record<string, string> };
  readonly securityContext?: Record<string, unknown>;
}
interface Manifest {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly data?: Record<string, string>;
  readonly spec?: {
    readonly selector?: { readonly matchLabels?: Record<string, string> } & Record<string, string>;
    readonly ports?: { readonly port: number; readonly targetPort: string | number }[];
    readonly template?: { readonly spec: { readonly securityContext?: Record<string, unknown>; readonly containers: Container[] } };
  };
}

const dir = __dirname;
const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images: { name: string }[] };
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((document) => document.toJS() as Manifest),
);
const find = (kind: string, name: string) => manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
const platformConfig = find('ConfigMap', 'tessera-platform')?.data ?? {};
// The uid of the image's USER: the pods must run as the same one.
const imageUid = /^USER (\d+)/m.exec(readFileSync(join(dir, '../docker/service.Dockerfile'), 'utf8'))?.[1];

describe('infra/k8s', () => {
  it('applies every manifest in the folder', () => {
    const files = readdirSync(dir).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  describe.each(Object.keys(SCHEMAS))('%s', (app) => {
    const schema = SCHEMAS[app];
    const port = schema.shape['HTTP_PORT'].parse(undefined) as number;
    const deployment = () => find('Deployment', app)!;
    const container = () => deployment().spec!.template!.spec.containers[0];

    it('is a Deployment of its own image with a Service and a PodDisruptionBudget on the same pods', () => {
      expect(deployment()).toBeDefined();
      expect(container().image).toBe(`tessera/${app}`);
      expect(kustomization.images.map((image) => image.name)).toContain(`tessera/${app}`);
      const selector = deployment().spec!.selector!.matchLabels;
      expect(find('Service', app)?.spec?.selector).toEqual(selector);
      expect(find('PodDisruptionBudget', app)?.spec?.selector?.matchLabels).toEqual(selector);
      expect(find('Service', app)?.spec?.ports).toEqual([expect.objectContaining({ port, targetPort: 'http' })]);
    });

    it('sets only variables its schema reads, and with the ConfigMap and a Secret its schema accepts', () => {
      const env = container().env ?? [];
      const read = configVariables(schema);
      expect(env.map((variable) => variable.name).filter((name) => !read.includes(name))).toEqual([]);
      const values = Object.fromEntries(
        env.map(({ name, value, valueFrom }) => {
          if (valueFrom?.secretKeyRef) return [name, `postgres://tessera:secret@postgres.example:5432/db`];
          if (valueFrom?.configMapKeyRef) return [name, platformConfig[valueFrom.configMapKeyRef.key]];
          return [name, value];
        }),
      );
      expect(schema.safeParse(values).error?.issues ?? []).toEqual([]);
      expect(values['HTTP_HOST']).toBe('0.0.0.0');
      expect(Number(values['HTTP_PORT'])).toBe(port);
      expect(env.find((variable) => variable.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toBeDefined();
    });

    it('listens on its port, probes readiness and liveness, and runs non-root within limits', () => {
      expect(container().ports).toEqual([{ name: 'http', containerPort: port }]);
      expect(container().readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(container().livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(Object.keys(container().resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(container().resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(deployment().spec!.template!.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(imageUid) });
      expect(container().securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    });
  });
});
