import * as grpc from '@grpc/grpc-js';

/** A gRPC status the double answers with, and the text Cloud KMS sends for it (or close to it, see README). */
export class GrpcFault extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

export const notFound = (what: string, name: string) => new GrpcFault(grpc.status.NOT_FOUND, `${what} ${name} not found.`);
export const invalid = (details: string) => new GrpcFault(grpc.status.INVALID_ARGUMENT, details);
export const precondition = (details: string) => new GrpcFault(grpc.status.FAILED_PRECONDITION, details);
export const alreadyExists = (what: string, name: string) => new GrpcFault(grpc.status.ALREADY_EXISTS, `${what} ${name} already exists.`);
export const unimplemented = (details: string) => new GrpcFault(grpc.status.UNIMPLEMENTED, `${details} (not implemented by the Cloud KMS DOUBLE)`);
export const checksumMismatch = (field: string, data: string) =>
  invalid(`The checksum in field ${field} did not match the data in field ${data}.`);
