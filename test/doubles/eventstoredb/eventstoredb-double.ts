/**
 * A protocol-level DOUBLE of an EventStoreDB node (not a real server): the Streams service (Append, BatchAppend,
 * Read incl. subscriptions) and ServerFeatures, served over real gRPC with `@grpc/grpc-js` from the client
 * package's own generated service definitions. No EventStoreDB or KurrentDB server can be installed here; the
 * adapter is held to the same contract suite against this double and, when ESDB_CONNECTION_STRING is set,
 * against a real server.
 *
 * Semantics implemented (see in-memory-log.ts for storage):
 * - Append/BatchAppend: expected revision (any, no_stream, stream_exists, exact), wrong expected version with
 *   the current revision, idempotent re-sends by event id answered with success and NO position (as the server
 *   does for writes it recognises as duplicates).
 * - Read of a stream (forwards/backwards, from revision/start/end, count); StreamNotFound for a missing stream.
 * - Read of $all: forwards inclusive of the start position, backwards exclusive; stream-name or event-type
 *   filters (prefixes or regex) with checkpoints every search window.
 * - Subscriptions to $all: confirmation, catch-up (exclusive of the start position), caught-up, then live;
 *   flow control through gRPC back-pressure. `dropSubscriptions()` ends every live subscription with
 *   UNAVAILABLE, as a lost connection or a node restart would.
 */
import * as grpc from '@grpc/grpc-js';
import {
  AllStreamPosition,
  AppendReq,
  AppendResp,
  Any,
  BatchAppendReq,
  BatchAppendResp,
  Code,
  Empty,
  GoogleEmpty,
  ReadReq,
  ReadResp,
  ServerFeaturesService,
  Status,
  StreamsService,
  SupportedMethod,
  SupportedMethods,
  WrongExpectedVersion,
} from './generated';
import { AppendOutcome, Expected, InMemoryLog, ProposedEvent, StoredRecord } from './in-memory-log';
import { compileFilter, CompiledFilter, eventResponse, streamIdentifier, streamNameOf, uuidMessage, uuidToString } from './wire';

export interface EventStoreDbDoubleOptions {
  /** Advertise and serve BatchAppend (servers 21.10+). Without it the client falls back to Append. */
  batchAppend?: boolean;
  /** Interleave `$ce-<category>` link events into $all, like the server's $by_category projection. */
  emulateCategoryProjection?: boolean;
}

type ReadCall = grpc.ServerWritableStream<ReadReq, ReadResp>;

export class EventStoreDbDouble {
  readonly log: InMemoryLog;
  private readonly live = new Set<ReadCall>();

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    options: Required<EventStoreDbDoubleOptions>,
    log: InMemoryLog,
  ) {
    this.log = log;
    void options;
  }

  static async start(options: EventStoreDbDoubleOptions = {}): Promise<EventStoreDbDouble> {
    const resolved = { batchAppend: options.batchAppend ?? true, emulateCategoryProjection: options.emulateCategoryProjection ?? true };
    const log = new InMemoryLog({ emulateCategoryProjection: resolved.emulateCategoryProjection });
    const server = new grpc.Server();
    let double: EventStoreDbDouble | undefined;
    const handlers = new StreamsHandlers(log, (call) => double!.track(call));
    server.addService(StreamsService as unknown as grpc.ServiceDefinition, {
      read: handlers.read,
      append: handlers.append,
      batchAppend: resolved.batchAppend ? handlers.batchAppend : unimplemented,
      delete: unimplemented,
      tombstone: unimplemented,
    });
    server.addService(ServerFeaturesService as unknown as grpc.ServiceDefinition, {
      getSupportedMethods: (_call: unknown, callback: grpc.sendUnaryData<SupportedMethods>) => callback(null, supportedMethods(resolved.batchAppend)),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    double = new EventStoreDbDouble(server, port, resolved, log);
    return double;
  }

  /** For `EventStoreDBClient.connectionString` (single node, plain text: the double has no TLS). */
  get connectionString(): string {
    return `esdb://127.0.0.1:${this.port}?tls=false&keepAliveInterval=-1`;
  }

  /** Ends every open subscription with UNAVAILABLE, like a dropped connection. */
  dropSubscriptions(): number {
    const calls = [...this.live];
    // grpc-js sends a streaming call's error status when 'error' is emitted on the server call.
    for (const call of calls) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'connection dropped by the test double' });
    this.live.clear();
    return calls.length;
  }

  get liveSubscriptions(): number {
    return this.live.size;
  }

  async stop(): Promise<void> {
    this.dropSubscriptions();
    // Calls a client abandoned half-way (an iterator left early) would keep a graceful shutdown waiting.
    this.server.forceShutdown();
  }

  private track(call: ReadCall): () => void {
    this.live.add(call);
    return () => this.live.delete(call);
  }
}

const unimplemented = (_call: unknown, callback?: (error: grpc.ServiceError) => void) => {
  const error = Object.assign(new Error('not implemented by the EventStoreDB double'), { code: grpc.status.UNIMPLEMENTED });
  if (typeof callback === 'function') callback(error as grpc.ServiceError);
  else (_call as { destroy(e: Error): void }).destroy(error);
};

function supportedMethods(batchAppend: boolean): SupportedMethods {
  const methods = new SupportedMethods();
  methods.setEventStoreServerVersion('23.10.0-double');
  const names = ['Read', 'Append', ...(batchAppend ? ['BatchAppend'] : [])];
  methods.setMethodsList(
    names.map((name) => {
      const method = new SupportedMethod();
      method.setServiceName('event_store.client.streams.Streams');
      method.setMethodName(name.toLowerCase());
      return method;
    }),
  );
  return methods;
}

class StreamsHandlers {
  constructor(
    private readonly log: InMemoryLog,
    private readonly track: (call: ReadCall) => () => void,
  ) {}

  append = (call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>): void => {
    let options: AppendReq.Options | undefined;
    const proposed: ProposedEvent[] = [];
    call.on('data', (req: AppendReq) => {
      if (req.hasOptions()) options = req.getOptions();
      else if (req.hasProposedMessage()) proposed.push(proposedOf(req.getProposedMessage()!));
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      if (!options) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'append without options' } as grpc.ServiceError);
      const expected = expectedOfAppend(options);
      const outcome = this.log.append(streamNameOf(options.getStreamIdentifier()), proposed, expected);
      callback(null, appendResponse(outcome));
    });
  };

  batchAppend = (call: grpc.ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void => {
    const pending = new Map<string, { options: BatchAppendReq.Options; proposed: ProposedEvent[] }>();
    call.on('data', (req: BatchAppendReq) => {
      const correlation = uuidToString(req.getCorrelationId());
      let entry = pending.get(correlation);
      if (!entry) {
        if (!req.hasOptions()) return;
        entry = { options: req.getOptions()!, proposed: [] };
        pending.set(correlation, entry);
      }
      for (const message of req.getProposedMessagesList()) entry.proposed.push(proposedOf(message));
      if (!req.getIsFinal()) return;
      pending.delete(correlation);
      const stream = streamNameOf(entry.options.getStreamIdentifier());
      const outcome = this.log.append(stream, entry.proposed, expectedOfBatch(entry.options));
      call.write(batchResponse(req.getCorrelationId()!, stream, outcome));
    });
    call.on('error', () => undefined);
    call.on('end', () => call.end());
  };

  read = (call: ReadCall): void => {
    const options = call.request.getOptions();
    if (!options) return void call.destroy(Object.assign(new Error('read without options'), { code: grpc.status.INVALID_ARGUMENT }));
    const structuredIds = options.getUuidOption()?.getContentCase() === ReadReq.Options.UUIDOption.ContentCase.STRUCTURED;
    const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
    const subscription = options.getCountOptionCase() === ReadReq.Options.CountOptionCase.SUBSCRIPTION;
    const count = options.getCountOptionCase() === ReadReq.Options.CountOptionCase.COUNT ? Number(options.getCount()) : Number.MAX_SAFE_INTEGER;

    if (options.getStreamOptionCase() === ReadReq.Options.StreamOptionCase.STREAM) {
      if (subscription) return unimplemented(call);
      return this.readStream(call, options.getStream()!, { backwards, count, structuredIds });
    }
    let filter: CompiledFilter | null;
    try {
      filter = compileFilter(options);
    } catch (error) {
      return void call.destroy(Object.assign(new Error((error as Error).message), { code: grpc.status.INVALID_ARGUMENT }));
    }
    const all = options.getAll()!;
    if (subscription) return void this.subscribeAll(call, all, filter, structuredIds);
    this.readAll(call, all, { backwards, count, filter, structuredIds });
  };

  private readStream(call: ReadCall, stream: ReadReq.Options.StreamOptions, o: { backwards: boolean; count: number; structuredIds: boolean }): void {
    const name = streamNameOf(stream.getStreamIdentifier());
    const events = this.log.visibleEvents(name);
    if (!events) {
      const notFound = new ReadResp.StreamNotFound();
      notFound.setStreamIdentifier(streamIdentifier(name));
      const response = new ReadResp();
      response.setStreamNotFound(notFound);
      call.write(response);
      call.end();
      return;
    }
    const Case = ReadReq.Options.StreamOptions.RevisionOptionCase;
    const option = stream.getRevisionOptionCase();
    let selected: StoredRecord[];
    if (o.backwards) {
      const from = option === Case.REVISION ? Number(stream.getRevision()) : Number.MAX_SAFE_INTEGER;
      selected = events.filter((e) => e.revision <= from).reverse();
    } else {
      const from = option === Case.REVISION ? Number(stream.getRevision()) : option === Case.END ? Number.MAX_SAFE_INTEGER : 0;
      selected = events.filter((e) => e.revision >= from);
    }
    for (const record of selected.slice(0, o.count)) call.write(eventResponse(record, { fromAll: false, structuredIds: o.structuredIds }));
    call.end();
  }

  private readAll(call: ReadCall, all: ReadReq.Options.AllOptions, o: { backwards: boolean; count: number; filter: CompiledFilter | null; structuredIds: boolean }): void {
    const Case = ReadReq.Options.AllOptions.AllOptionCase;
    const option = all.getAllOptionCase();
    const position = option === Case.POSITION ? BigInt(all.getPosition()!.getCommitPosition()) : null;
    let sent = 0;
    if (o.backwards) {
      // Backwards from a position returns what lies strictly before it; from End, everything.
      const start = option === Case.POSITION ? this.log.indexAtOrAfter(position!) - 1 : option === Case.START ? -1 : this.log.length - 1;
      for (let i = start; i >= 0 && sent < o.count; i--) sent += this.sendIfMatching(call, this.log.recordAt(i), o.filter, o.structuredIds);
    } else {
      const start = option === Case.POSITION ? this.log.indexAtOrAfter(position!) : option === Case.END ? this.log.length : 0;
      for (let i = start; i < this.log.length && sent < o.count; i++) sent += this.sendIfMatching(call, this.log.recordAt(i), o.filter, o.structuredIds);
    }
    call.end();
  }

  private sendIfMatching(call: ReadCall, record: StoredRecord, filter: CompiledFilter | null, structuredIds: boolean): number {
    if (filter && !filter.matches(record)) return 0;
    call.write(eventResponse(record, { fromAll: true, structuredIds }));
    return 1;
  }

  private async subscribeAll(call: ReadCall, all: ReadReq.Options.AllOptions, filter: CompiledFilter | null, structuredIds: boolean): Promise<void> {
    const untrack = this.track(call);
    let cancelled = false;
    let wake: (() => void) | null = null;
    const stopListening = this.log.onAppend(() => wake?.());
    const finish = () => {
      cancelled = true;
      wake?.();
    };
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('error', finish);
    const write = async (response: ReadResp) => {
      if (!call.write(response)) await new Promise<void>((resolve) => call.once('drain', resolve));
    };

    try {
      const confirmation = new ReadResp.SubscriptionConfirmation();
      confirmation.setSubscriptionId(globalThis.crypto.randomUUID());
      const first = new ReadResp();
      first.setConfirmation(confirmation);
      await write(first);

      const Case = ReadReq.Options.AllOptions.AllOptionCase;
      const option = all.getAllOptionCase();
      // A subscription starts AFTER the given position (a checkpoint is exclusive); from End it is live only.
      let cursor =
        option === Case.POSITION
          ? this.log.indexAtOrAfter(BigInt(all.getPosition()!.getCommitPosition()) + 1n)
          : option === Case.END
            ? this.log.length
            : 0;
      let scanned = 0;
      let caughtUpSent = false;
      while (!cancelled) {
        while (cursor < this.log.length && !cancelled) {
          const record = this.log.recordAt(cursor++);
          if (!filter || filter.matches(record)) await write(eventResponse(record, { fromAll: true, structuredIds }));
          else if (filter && ++scanned % filter.checkpointEvery === 0) await write(checkpointResponse(record));
        }
        if (cancelled) break;
        if (!caughtUpSent) {
          caughtUpSent = true;
          const caughtUp = new ReadResp();
          caughtUp.setCaughtUp(new ReadResp.CaughtUp());
          await write(caughtUp);
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (cursor < this.log.length || cancelled) resolve();
        });
        wake = null;
      }
    } catch {
      // The call ended under us (client went away or the test dropped it): nothing to clean besides below.
    } finally {
      stopListening();
      untrack();
    }
  }
}

function proposedOf(message: AppendReq.ProposedMessage | BatchAppendReq.ProposedMessage): ProposedEvent {
  const metadata = message.getMetadataMap();
  return {
    id: uuidToString(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
}

function expectedOfAppend(options: AppendReq.Options): Expected {
  const Case = AppendReq.Options.ExpectedStreamRevisionCase;
  switch (options.getExpectedStreamRevisionCase()) {
    case Case.REVISION:
      return { kind: 'revision', revision: Number(options.getRevision()) };
    case Case.NO_STREAM:
      return { kind: 'no_stream' };
    case Case.STREAM_EXISTS:
      return { kind: 'stream_exists' };
    default:
      return { kind: 'any' };
  }
}

function expectedOfBatch(options: BatchAppendReq.Options): Expected {
  const Case = BatchAppendReq.Options.ExpectedStreamPositionCase;
  switch (options.getExpectedStreamPositionCase()) {
    case Case.STREAM_POSITION:
      return { kind: 'revision', revision: Number(options.getStreamPosition()) };
    case Case.NO_STREAM:
      return { kind: 'no_stream' };
    case Case.STREAM_EXISTS:
      return { kind: 'stream_exists' };
    default:
      return { kind: 'any' };
  }
}

function appendResponse(outcome: AppendOutcome): AppendResp {
  const response = new AppendResp();
  if (outcome.kind === 'success') {
    const success = new AppendResp.Success();
    if (outcome.currentRevision >= 0) success.setCurrentRevision(String(outcome.currentRevision));
    else success.setNoStream(new Empty());
    if (outcome.written && outcome.position !== null) {
      const position = new AppendResp.Position();
      position.setCommitPosition(outcome.position.toString());
      position.setPreparePosition(outcome.position.toString());
      success.setPosition(position);
    } else success.setNoPosition(new Empty());
    response.setSuccess(success);
    return response;
  }
  const wrong = new AppendResp.WrongExpectedVersion();
  if (outcome.currentRevision >= 0) wrong.setCurrentRevision(String(outcome.currentRevision));
  else wrong.setCurrentNoStream(new Empty());
  const e = outcome.expected;
  if (e.kind === 'revision') wrong.setExpectedRevision(String(e.revision));
  else if (e.kind === 'no_stream') wrong.setExpectedNoStream(new Empty());
  else if (e.kind === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
  else wrong.setExpectedAny(new Empty());
  response.setWrongExpectedVersion(wrong);
  return response;
}

function batchResponse(correlationId: BatchAppendReq['getCorrelationId'] extends () => infer U ? NonNullable<U> : never, stream: string, outcome: AppendOutcome): BatchAppendResp {
  const response = new BatchAppendResp();
  response.setCorrelationId(correlationId);
  response.setStreamIdentifier(streamIdentifier(stream));
  if (outcome.kind === 'success') {
    const success = new BatchAppendResp.Success();
    if (outcome.currentRevision >= 0) success.setCurrentRevision(String(outcome.currentRevision));
    else success.setNoStream(new GoogleEmpty());
    if (outcome.written && outcome.position !== null) {
      const position = new AllStreamPosition();
      position.setCommitPosition(outcome.position.toString());
      position.setPreparePosition(outcome.position.toString());
      success.setPosition(position);
    } else success.setNoPosition(new GoogleEmpty());
    response.setSuccess(success);
    return response;
  }
  const wrong = new WrongExpectedVersion();
  if (outcome.currentRevision >= 0) wrong.setCurrentStreamRevision(String(outcome.currentRevision));
  else wrong.setCurrentNoStream(new GoogleEmpty());
  const e = outcome.expected;
  if (e.kind === 'revision') wrong.setExpectedStreamPosition(String(e.revision));
  else if (e.kind === 'no_stream') wrong.setExpectedNoStream(new GoogleEmpty());
  else if (e.kind === 'stream_exists') wrong.setExpectedStreamExists(new GoogleEmpty());
  else wrong.setExpectedAny(new GoogleEmpty());
  const details = new Any();
  details.pack(wrong.serializeBinary(), 'event_store.client.WrongExpectedVersion');
  const status = new Status();
  status.setCode(Code.FAILED_PRECONDITION);
  status.setMessage('WrongExpectedVersion');
  status.setDetails(details);
  response.setError(status);
  return response;
}

function checkpointResponse(record: StoredRecord): ReadResp {
  const checkpoint = new ReadResp.Checkpoint();
  checkpoint.setCommitPosition(record.position.toString());
  checkpoint.setPreparePosition(record.position.toString());
  const response = new ReadResp();
  response.setCheckpoint(checkpoint);
  return response;
}
