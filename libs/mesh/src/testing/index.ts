/** Test support, not built into dist: `import { describeMeshContract } from '@cmk/mesh/testing'`. */
export { describeMeshContract } from './mesh.contract';
export type { MeshContractFactory, MeshContractOptions } from './mesh.contract';
