/**
 * The client package's OWN generated gRPC service definitions and protobuf messages: the double serves exactly
 * the wire contract `@eventstore/db-client` was generated from. google-protobuf (Any, Empty) is loaded from where
 * the client resolves it, so the messages built here are the instances its generated code checks against.
 */
import { createRequire } from 'node:module';

export { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb';
export { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';
export { AllStreamPosition, Empty, StreamIdentifier, UUID, WrongExpectedVersion } from '@eventstore/db-client/generated/shared_pb';
export { Status } from '@eventstore/db-client/generated/status_pb';
export { Code } from '@eventstore/db-client/generated/code_pb';
export { ServerFeaturesService } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
export { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';

const requireFromClient = createRequire(require.resolve('@eventstore/db-client/generated/status_pb'));

export const { Any } = requireFromClient('google-protobuf/google/protobuf/any_pb') as typeof import('google-protobuf/google/protobuf/any_pb');
/** google.protobuf.Empty, which BatchAppendResp uses where the other messages use event_store.client.Empty. */
export const { Empty: GoogleEmpty } = requireFromClient('google-protobuf/google/protobuf/empty_pb') as typeof import('google-protobuf/google/protobuf/empty_pb');
