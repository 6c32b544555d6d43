import { appendContract } from './contract/append.contract';
import { checkpointsContract } from './contract/checkpoints.contract';
import { concurrencyContract } from './contract/concurrency.contract';
import { hashChainContract } from './contract/hash-chain.contract';
import type { ContractFactory, ContractSubject } from './contract/contract-subject';
import { idempotencyContract } from './contract/idempotency.contract';
import { readAllContract } from './contract/read-all.contract';
import { subscriptionContract } from './contract/subscription.contract';

export type { ContractFactory, ContractSubject, HeldAppend } from './contract/contract-subject';

export interface ContractOptions {
  /** Run the late-commit test; the subject must then provide `holdAppendOpen`. */
  lateCommit?: boolean;
}

/**
 * The guarantees of the EventStore port as one suite, to run unchanged against every adapter. The factory is
 * called before each test and its `cleanup` after it. Tests never assume an empty store: each works in
 * categories of its own and reads after the head it found, so a shared server (EventStoreDB) works too.
 *
 * Uses only the test-runner globals `describe`, `it`, `expect`, `beforeEach` and `afterEach`.
 */
export function describeEventStoreContract(name: string, factory: ContractFactory, options: ContractOptions = {}): void {
  describe(`EventStore contract: ${name}`, () => {
    let current: ContractSubject | undefined;
    const subject = (): ContractSubject => {
      if (!current) throw new Error('no contract subject: the factory did not run');
      return current;
    };

    beforeEach(async () => {
      current = await factory();
    });

    afterEach(async () => {
      const ending = current;
      current = undefined;
      await ending?.cleanup();
    });

    appendContract(subject);
    idempotencyContract(subject);
    readAllContract(subject);
    subscriptionContract(subject);
    checkpointsContract(subject);
    concurrencyContract(subject, { lateCommit: options.lateCommit ?? false });
    hashChainContract(subject);

    it('answers ping', async () => {
      await expect(subject().store.ping()).resolves.toBeUndefined();
    });
  });
}
