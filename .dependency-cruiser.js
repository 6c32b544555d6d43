/** Layer rules from the design guide, checked in `npm test`. */
const FRAMEWORKS = '(^|/)node_modules/(@nestjs/|typeorm/|pg/|pg-[a-z-]+/|kafkajs/|@grpc/|@aws-sdk/|@google-cloud/|@azure/|@electric-sql/|jose/|pino/|prom-client/|express/|pkcs11js/|@eventstore/|@kurrent/)';

module.exports = {
  forbidden: [
    {
      name: 'pure-core-imports-no-frameworks',
      comment: 'libs/domain and libs/policy are pure: no Nest, TypeORM, pg, Kafka, gRPC, cloud SDKs or I/O libraries.',
      severity: 'error',
      from: { path: '^libs/(domain|policy)/' },
      to: { path: FRAMEWORKS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'pure-core-imports-no-adapters',
      comment: 'libs/domain and libs/policy never import adapters, read models or apps.',
      severity: 'error',
      from: { path: '^libs/(domain|policy)/' },
      to: { path: '^(libs/(event-store|read-models|auth|mesh|key-providers|audit)|apps)/' },
    },
    {
      name: 'libs-do-not-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'audit-core-is-pure',
      comment: 'The offline verifier must run anywhere: libs/audit has no framework or database imports.',
      severity: 'error',
      from: { path: '^libs/audit/' },
      to: { path: FRAMEWORKS },
    },
    {
      name: 'native-pkcs11-only-in-its-adapter',
      severity: 'error',
      from: { path: '^(?!libs/key-providers/src/pkcs11/)' },
      to: { path: '^node_modules/pkcs11js' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
