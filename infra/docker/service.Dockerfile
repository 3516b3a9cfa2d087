# The container image of every Tessera service, one Dockerfile for all four.
#
# Why one shared file and no apps/<name>/Dockerfile: the four services are built the same way (the same
# lockfile, the same libraries, TypeScript compiled on the fly by @swc-node/register) and differ only in
# their entry point and port. Four copies would drift; a Dockerfile cannot include another, so a per-app
# file could not stay one line either. Each service still has its own image definition: the stage named
# after it below, which sets its exact CMD. `--build-arg SERVICE=<name>` selects that stage (docker-compose.yml
# passes it for each service); `--target <name>` does the same.
#
#   docker build -f infra/docker/service.Dockerfile --build-arg SERVICE=auth-service -t tessera/auth-service .
#
# Needs BuildKit (the default builder since Docker 23): it builds only the stages the chosen one needs.

# The same Node.js release as the local platform (infra/local/versions.env NODE_VERSION).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim
ARG SERVICE

# ---- dependencies: exactly the lockfile, then only what runs ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY infra/docker/prune-dev-dependencies.cjs infra/docker/
# --ignore-scripts: package.json "allowScripts" allows no install script; native parts (@swc/core,
# the Temporal core bridge) ship as prebuilt binaries in their packages.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund \
 && node infra/docker/prune-dev-dependencies.cjs @swc-node/register

# ---- runtime shared by all services ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    TESSERA_ENV=production
WORKDIR /app
# Owned by root and read-only to the service user: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
# tsconfig*.json carry the @tessera/* path aliases that @swc-node/register resolves at run time.
COPY package.json tsconfig.json tsconfig.base.json .swcrc ./
COPY libs ./libs
COPY apps ./apps
# kafka-admin.ts: docker-compose.yml's kafka-init creates the declared topics with this image.
COPY infra/local/scripts ./infra/local/scripts
COPY infra/docker/healthcheck.cjs ./infra/docker/
# The base image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "infra/docker/healthcheck.cjs", "/health/ready"]

# ---- one stage per service: its port (the default of HTTP_PORT in its config schema) and entry point ----
FROM runtime AS auth-service
ENV HTTP_PORT=3101
EXPOSE 3101
CMD ["node", "--disable-warning=TimeoutNegativeWarning", "-r", "@swc-node/register", "apps/auth-service/src/main.ts"]

FROM runtime AS device-registry
ENV HTTP_PORT=3102
EXPOSE 3102
CMD ["node", "--disable-warning=TimeoutNegativeWarning", "-r", "@swc-node/register", "apps/device-registry/src/main.ts"]

FROM runtime AS recovery-orchestrator
ENV HTTP_PORT=3103
EXPOSE 3103
CMD ["node", "--disable-warning=TimeoutNegativeWarning", "-r", "@swc-node/register", "apps/recovery-orchestrator/src/main.ts"]

FROM runtime AS audit-service
ENV HTTP_PORT=3104
EXPOSE 3104
CMD ["node", "--disable-warning=TimeoutNegativeWarning", "-r", "@swc-node/register", "apps/audit-service/src/main.ts"]

# A build without SERVICE stops here with a message instead of producing an image that runs nothing.
FROM runtime AS service-not-chosen
RUN echo "choose the service: --build-arg SERVICE=<auth-service|device-registry|recovery-orchestrator|audit-service>" >&2 \
 && exit 1

FROM ${SERVICE:-service-not-chosen}
