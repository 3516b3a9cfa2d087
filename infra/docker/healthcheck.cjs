// Container health check for a Tessera service: exits 0 when GET <path> on the service's own HTTP_PORT
// answers 200, 1 otherwise. Plain node:http because the slim base image has no curl or wget, and a
// CommonJS file so that the check does not pay for the TypeScript compiler on every run.
//
// Usage: node infra/docker/healthcheck.cjs /health/ready
const { request } = require('node:http');

const path = process.argv[2] ?? '/health/ready';
const port = Number(process.env.HTTP_PORT);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('healthcheck: HTTP_PORT is not set\n');
  process.exit(1);
}

// The service listens on HTTP_HOST (0.0.0.0 in containers), which includes the loopback interface.
const probe = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: 3_000 }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
probe.on('timeout', () => probe.destroy(new Error(`no answer within 3 s`)));
probe.on('error', (error) => {
  process.stderr.write(`healthcheck: ${error.message}\n`);
  process.exit(1);
});
probe.end();
