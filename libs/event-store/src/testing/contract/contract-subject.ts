import type { EventStore, NewEvent } from '../../event-store.port';

/** An append whose transaction is open (events written, not committed) until `commit()`. */
export interface HeldAppend {
  commit(): Promise<void>;
}

/** What an adapter's test hands the contract suite for each test: a store on a clean (or shared) database. */
export interface ContractSubject {
  store: EventStore;
  cleanup(): Promise<void>;
  /**
   * Optional: start an append of `events` to `streamName` and keep its transaction open. Enables the late-commit
   * test. It may block other appends (and, on a single-connection database, every other operation) until
   * `commit()`; the suite never awaits anything else while an append is held.
   */
  holdAppendOpen?(streamName: string, events: NewEvent[]): Promise<HeldAppend>;
  /** True when global positions are consecutive integers as long as no append fails (PostgreSQL adapter). */
  densePositions?: boolean;
}

export type ContractFactory = () => Promise<ContractSubject>;

/** The subject of the running test (the suite creates one per test). */
export type CurrentSubject = () => ContractSubject;
