/** One config for every suite: *.spec.ts (pure units), *.int-spec.ts (adapters against real services), *.e2e-spec.ts (whole system). */
const swc = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
};
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testRegex: '.*\\.(spec|int-spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@cmk/testing$': '<rootDir>/test/support',
    '^@cmk/testing/(.*)$': '<rootDir>/test/support/$1',
    '^@cmk/([a-z-]+)$': '<rootDir>/libs/$1/src',
    '^@cmk/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  // Every suite closes what it opens, but kafkajs can leave a reconnect timer behind after a broker restart test;
  // once all suites have finished (and the global teardown stopped PostgreSQL and Kafka), CI must end, not hang.
  forceExit: true,
};
