export * from './regional-worker';
export * from './config/worker.config';
export { inProcessEndOffsets } from './view/end-offsets';
export type { EndOffsets, PartitionEnd } from './view/end-offsets';
export { kafkaEndOffsets } from './view/kafka-end-offsets';
export { workerTopics } from './view/topics';
export type { WorkerTopics } from './view/topics';
export { createWorkerLogger } from './observability/logger';
export { BLOB_VERSION, parseBlob } from './crypto/envelope';
