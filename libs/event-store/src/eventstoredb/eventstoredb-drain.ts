/**
 * Reads a server stream to its end. Leaving a read half-way (breaking out of `for await`) leaves the gRPC call
 * open on the channel, and `dispose()` would then wait for it: every read here asks for a bounded count instead.
 */
export async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}
