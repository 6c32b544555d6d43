/**
 * Layer rules from the design guide, checked in `npm test` and by
 *   npx depcruise --config .dependency-cruiser.js libs apps
 * (exit code non-zero on any error-severity violation).
 */

/**
 * Framework, I/O and cloud SDK packages the pure core must not touch. Each is matched both where it resolved
 * (`node_modules/<pkg>/...`) and as a bare specifier, because a package that is not installed (the cloud SDKs are
 * not, today) stays unresolved and would otherwise slip past a rule that only looks into node_modules.
 */
const FRAMEWORK_SCOPES = ['nestjs', 'grpc', 'aws-sdk', 'google-cloud', 'azure', 'electric-sql', 'eventstore', 'kurrent'];
const FRAMEWORK_PACKAGES = ['typeorm', 'pg', 'pg-[a-z-]+', 'kafkajs', 'jose', 'pino', 'pino-[a-z-]+', 'prom-client', 'express', 'pkcs11js'];
const FRAMEWORKS = `(^|(^|/)node_modules/)(@(${FRAMEWORK_SCOPES.join('|')})/|(${FRAMEWORK_PACKAGES.join('|')})(/|$))`;

/** Adapters, read models, apps and the whole-system test support (which starts databases): never imported by the core. */
const ADAPTER_LIBS = 'event-store|read-models|auth|mesh|key-providers|audit';
const NOT_FOR_THE_CORE = `^((libs/(${ADAPTER_LIBS})|apps|test)/|@cmk/(${ADAPTER_LIBS}|testing)(/|$))`;

/** Node built-ins that do I/O; the pure core decides, it does not read, write or talk. */
const IO_BUILTINS = '^(fs|fs/promises|net|http|https|http2|dgram|dns|dns/promises|tls|child_process|cluster|worker_threads|readline|inspector)$';

const PURE_CORE = '^libs/(domain|policy|orbital)/';

module.exports = {
  forbidden: [
    {
      name: 'pure-core-imports-no-frameworks',
      comment:
        'libs/domain, libs/policy and libs/orbital are pure: no Nest, TypeORM, pg, Kafka, gRPC, cloud SDKs, PGlite, jose or pino. ' +
        'Type-only imports count too: the core must compile without these packages.',
      severity: 'error',
      from: { path: PURE_CORE },
      to: { path: FRAMEWORKS },
    },
    {
      name: 'pure-core-imports-no-adapters',
      comment: 'libs/domain, libs/policy and libs/orbital never import adapters, read models, apps or the system test support.',
      severity: 'error',
      from: { path: PURE_CORE },
      to: { path: NOT_FOR_THE_CORE },
    },
    {
      name: 'pure-core-does-no-io',
      comment: 'libs/domain, libs/policy and libs/orbital do no I/O (design: "No Nest, no I/O").',
      severity: 'error',
      from: { path: PURE_CORE },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS },
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
    {
      name: 'not-to-unresolvable',
      comment: 'An import nothing resolves is a typo, a missing package or a missing @cmk path alias; a rule cannot judge it.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // node_modules is not cruised into (doNotFollow) but must not be `exclude`d: excluded modules vanish as
    // dependency targets too, and then every "must not import <package>" rule above passes vacuously.
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    // Resolves the @cmk/* path aliases from tsconfig.json.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
