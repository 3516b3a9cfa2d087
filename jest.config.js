// Test tiers by file suffix (STYLE.md): *.unit.spec.ts are pure and fast; *.int.spec.ts and
// *.e2e.spec.ts talk to the real PostgreSQL, Kafka and Temporal that `infra/local/platform` starts.
// NestJS 12 ships ES modules only; Jest loads them through Node 24's require(esm), which Jest enables
// under --experimental-vm-modules (set by the npm scripts). See docs/adr/0003-nestjs-12-esm-under-jest.md.
const { readFileSync } = require('node:fs');
const swc = JSON.parse(readFileSync(`${__dirname}/.swcrc`, 'utf8'));
const { compilerOptions } = JSON.parse(readFileSync(`${__dirname}/tsconfig.base.json`, 'utf8'));

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
);
const shared = {
  testEnvironment: 'node',
  rootDir: __dirname,
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleNameMapper,
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/.local', '<rootDir>/.tools'],
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,infra}/**/*.unit.spec.ts'] },
    {
      ...shared,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,infra}/**/*.{int,e2e}.spec.ts'],
      globalSetup: '<rootDir>/libs/shared/testing/src/global-setup.ts',
      slowTestThreshold: 30,
    },
  ],
  testTimeout: 120_000,
};
