import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * `google.cloud.kms.v1.KeyManagementService` loaded from the .proto files that `@google-cloud/kms` itself ships
 * (build/protos), with the common Google protos (annotations, field behaviour, wrappers) that its dependency
 * google-gax ships. The double therefore speaks exactly the wire format the client library was generated from.
 */
export function keyManagementServiceDefinition(): grpc.ServiceDefinition {
  // Both packages' entry points are build/src/index.js, next to build/protos (their package.json is not exported).
  const kmsProtos = join(dirname(require.resolve('@google-cloud/kms')), '..', 'protos');
  const gaxProtos = join(dirname(require.resolve('google-gax')), '..', 'protos');
  const definition = loadSync('google/cloud/kms/v1/service.proto', {
    includeDirs: [kmsProtos, gaxProtos],
    // camelCase fields, enum names and numbers for 64-bit values (CRC32C values and seconds fit in 2^53).
    keepCase: false,
    enums: String,
    longs: Number,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { kms: { v1: { KeyManagementService: { service: grpc.ServiceDefinition } } } } };
  };
  return loaded.google.cloud.kms.v1.KeyManagementService.service;
}
