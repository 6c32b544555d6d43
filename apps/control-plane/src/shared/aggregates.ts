import { Inject, Injectable } from '@nestjs/common';
import { CommandContext, Decider, DomainEvent, eventMetadata } from '@cmk/domain';
import { ConcurrencyError, EVENT_STORE, EventStore, RecordedEvent } from '@cmk/event-store';
import { PreconditionFailedError } from '../http/problem';

export interface CommandResult {
  streamName: string;
  revision: number;
  /** Global position of the command's last event: pass it as `minPosition` to read your own write. */
  position: string;
  events: RecordedEvent[];
}

export interface Loaded<S> {
  state: S;
  revision: number;
  lastPosition: bigint;
  events: RecordedEvent[];
}

export type ExecutionContext = CommandContext & { ifMatch?: number };

interface Cached {
  decider: unknown;
  state: unknown;
  revision: number;
  lastPosition: bigint;
  /** The stream's most recent events, enough to recognise a re-sent command and answer with its first result. */
  recent: RecordedEvent[];
}

const CACHE_STREAMS = 10_000;
const RECENT_EVENTS = 32;

/**
 * Runs a command against one aggregate: load, decide, append with the expected revision. The append is the
 * commit point; nothing is published before it.
 *
 * Loaded states are cached per stream (bounded LRU) and brought up to date by reading only the events after the
 * cached revision, so a long stream is not replayed on every command. The cache never decides anything alone:
 * every load still reads the stream's tail, and every append still checks the expected revision, so several
 * instances stay correct.
 */
@Injectable()
export class Aggregates {
  private readonly cache = new Map<string, Cached>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async load<C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>): Promise<Loaded<S>> {
    const cached = this.cache.get(stream);
    const base = cached && cached.decider === decider ? cached : undefined;
    const fresh = await this.store.readStream(stream, base ? { fromRevision: base.revision + 1 } : {});
    const state = fresh.reduce((s, e) => decider.evolve(s, e as unknown as E), base ? (base.state as S) : decider.initialState);
    const last = fresh[fresh.length - 1];
    const loaded: Loaded<S> = {
      state,
      revision: last ? last.revision : (base?.revision ?? -1),
      lastPosition: last ? last.position : (base?.lastPosition ?? 0n),
      events: [...(base?.recent ?? []), ...fresh].slice(-RECENT_EVENTS),
    };
    if (loaded.revision >= 0) this.remember(stream, decider, loaded);
    return loaded;
  }

  private remember(stream: string, decider: unknown, loaded: Loaded<unknown>): void {
    this.cache.delete(stream);
    if (this.cache.size >= CACHE_STREAMS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(stream, { decider, state: loaded.state, revision: loaded.revision, lastPosition: loaded.lastPosition, recent: loaded.events });
  }

  /**
   * @param retryOnConflict re-load and re-decide after a concurrent write instead of failing with 409. Only
   *   for commands whose outcome does not depend on what the caller saw (revocation: stopping must be easy).
   */
  async execute<C, E extends DomainEvent, S>(
    stream: string,
    decider: Decider<C, E, S>,
    command: C | ((state: S) => C),
    ctx: ExecutionContext,
    opts: { retryOnConflict?: boolean } = {},
  ): Promise<CommandResult> {
    for (let attempt = 0; ; attempt++) {
      const loaded = await this.load(stream, decider);
      // A re-sent command whose events are already in the stream returns the first result.
      const earlier = loaded.events.filter((e) => e.metadata.commandId === ctx.commandId);
      if (earlier.length > 0) return result(stream, earlier[earlier.length - 1].revision, earlier[earlier.length - 1].position, earlier);
      if (ctx.ifMatch !== undefined && ctx.ifMatch !== loaded.revision)
        throw new PreconditionFailedError(`${stream} is at revision ${loaded.revision}, If-Match named ${ctx.ifMatch}`, loaded.revision);
      const cmd = typeof command === 'function' ? (command as (s: S) => C)(loaded.state) : command;
      const events = decider.decide(cmd, loaded.state);
      if (events.length === 0) return result(stream, loaded.revision, loaded.lastPosition, []);
      try {
        const appended = await this.store.append(
          stream,
          events.map((e) => ({ type: e.type, data: e.data, metadata: eventMetadata(ctx) })),
          { expectedRevision: loaded.revision === -1 ? 'no_stream' : loaded.revision, commandId: ctx.commandId },
        );
        return result(appended.events[0]?.streamName ?? stream, appended.nextExpectedRevision, appended.position, appended.events);
      } catch (e) {
        if (!(e instanceof ConcurrencyError)) throw e;
        if (ctx.ifMatch !== undefined) throw new PreconditionFailedError(`${stream} changed concurrently (now at revision ${e.actual})`, e.actual);
        if (!opts.retryOnConflict || attempt >= 20) throw e;
      }
    }
  }
}

function result(streamName: string, revision: number, position: bigint, events: RecordedEvent[]): CommandResult {
  return { streamName, revision, position: position.toString(), events };
}
