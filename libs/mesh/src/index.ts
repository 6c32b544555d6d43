export * from './mesh.port';
export * from './mesh.errors';
export { InProcessMesh } from './in-process/in-process-mesh.adapter';
export type { InProcessMeshOptions } from './in-process/in-process-mesh.adapter';
export { KafkaMesh } from './kafka/kafka-mesh.adapter';
export type { KafkaMeshOptions, MeshLogger } from './kafka/kafka-mesh.options';

// The contract suite is test code (left out of dist): import it from '@cmk/mesh/testing'.
