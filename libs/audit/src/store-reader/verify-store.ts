import type { PostgresStoreSnapshot } from './postgres-store-reader';
import { StoreLogVerifier, StoreVerifyOptions, StoreVerifyReport } from './store-log-verifier';

export interface VerifyStoreOptions extends StoreVerifyOptions {
  pageSize?: number;
  /** Called after every page with the events read so far. */
  onProgress?: (eventsRead: number) => void;
}

/** Walks a store snapshot end to end through {@link StoreLogVerifier}; stops as soon as the verdict is final. */
export async function verifyStore(snapshot: PostgresStoreSnapshot, options: VerifyStoreOptions = {}): Promise<StoreVerifyReport> {
  const verifier = new StoreLogVerifier(await snapshot.checkpoints(), options);
  let read = 0;
  walk: for await (const page of snapshot.pages(options.pageSize)) {
    for (const event of page) {
      read++;
      if (!verifier.push(event)) break walk;
    }
    options.onProgress?.(read);
  }
  return verifier.finish();
}
