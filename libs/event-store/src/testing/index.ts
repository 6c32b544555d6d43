/** Test support, not built into dist: `import { describeEventStoreContract } from '@cmk/event-store/testing'`. */
export { describeEventStoreContract } from './event-store.contract';
export type { ContractFactory, ContractOptions, ContractSubject, HeldAppend } from './event-store.contract';
export { dropEventStore, holdAppendOpen, postgresContractSubject } from './postgres-contract-subject';
