import { Inject, Injectable } from '@nestjs/common';
import { CommandContext, Decider, DomainEvent, eventMetadata, fold } from '@cmk/domain';
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

/**
 * Runs a command against one aggregate: load, decide, append with the expected revision. The append is the
 * commit point; nothing is published before it.
 */
@Injectable()
export class Aggregates {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async load<C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>): Promise<Loaded<S>> {
    const events = await this.store.readStream(stream);
    const state = fold(decider, events as unknown as E[]);
    const last = events[events.length - 1];
    return { state, revision: last ? last.revision : -1, lastPosition: last ? last.position : 0n, events };
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
