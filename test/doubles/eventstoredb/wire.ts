/** Conversions between the double's records and the generated protobuf messages. */
import { Empty, ReadReq, ReadResp, StreamIdentifier, UUID } from './generated';
import type { StoredRecord } from './in-memory-log';

/** What EventStoreDB reports as the commit position of an event read from a stream (the index does not know it). */
export const NO_COMMIT_POSITION = '18446744073709551615';

export function streamNameOf(identifier: StreamIdentifier | undefined): string {
  if (!identifier) throw new Error('missing stream identifier');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

export function streamIdentifier(streamName: string): StreamIdentifier {
  const identifier = new StreamIdentifier();
  identifier.setStreamName(Buffer.from(streamName, 'utf8'));
  return identifier;
}

export function uuidToString(uuid: UUID | undefined): string {
  if (!uuid) throw new Error('missing uuid');
  if (uuid.hasStructured()) {
    const structured = uuid.getStructured()!;
    const bytes = Buffer.alloc(16);
    bytes.writeBigInt64BE(BigInt(structured.getMostSignificantBits()), 0);
    bytes.writeBigInt64BE(BigInt(structured.getLeastSignificantBits()), 8);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return uuid.getString().toLowerCase();
}

export function uuidMessage(id: string, structured: boolean): UUID {
  const uuid = new UUID();
  if (!structured) {
    uuid.setString(id);
    return uuid;
  }
  const bytes = Buffer.from(id.replace(/-/g, ''), 'hex');
  const value = new UUID.Structured();
  value.setMostSignificantBits(bytes.readBigInt64BE(0).toString());
  value.setLeastSignificantBits(bytes.readBigInt64BE(8).toString());
  uuid.setStructured(value);
  return uuid;
}

/** A ReadResp carrying one event; `fromAll` decides whether the commit position is known (see NO_COMMIT_POSITION). */
export function eventResponse(record: StoredRecord, options: { fromAll: boolean; structuredIds: boolean }): ReadResp {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuidMessage(record.id, options.structuredIds));
  recorded.setStreamIdentifier(streamIdentifier(record.streamName));
  recorded.setStreamRevision(String(record.revision));
  recorded.setPreparePosition(record.position.toString());
  recorded.setCommitPosition(options.fromAll ? record.position.toString() : NO_COMMIT_POSITION);
  const metadata = recorded.getMetadataMap();
  metadata.set('type', record.type);
  metadata.set('content-type', record.contentType);
  metadata.set('created', record.createdTicks.toString());
  recorded.setCustomMetadata(record.customMetadata);
  recorded.setData(record.data);

  const event = new ReadResp.ReadEvent();
  event.setEvent(recorded);
  if (options.fromAll) event.setCommitPosition(record.position.toString());
  else event.setNoPosition(new Empty());
  const response = new ReadResp();
  response.setEvent(event);
  return response;
}

/** Server-side filter of a ReadReq (stream name or event type; a regex, else prefixes), or null without one. */
export interface CompiledFilter {
  matches(record: StoredRecord): boolean;
  /** Checkpoint after this many scanned records (search window times the checkpoint interval multiplier). */
  checkpointEvery: number;
}

const DEFAULT_SEARCH_WINDOW = 32;

export function compileFilter(options: ReadReq.Options): CompiledFilter | null {
  if (options.getFilterOptionCase() !== ReadReq.Options.FilterOptionCase.FILTER) return null;
  const filter = options.getFilter()!;
  const onStream = filter.getFilterCase() === ReadReq.Options.FilterOptions.FilterCase.STREAM_IDENTIFIER;
  const expression = onStream ? filter.getStreamIdentifier() : filter.getEventType();
  if (!expression) throw new Error('filter without an expression');
  const regex = expression.getRegex();
  const prefixes = expression.getPrefixList();
  const test = regex !== '' ? ((re: RegExp) => (value: string) => re.test(value))(new RegExp(regex)) : (value: string) => prefixes.some((p) => value.startsWith(p));
  const window = filter.getWindowCase() === ReadReq.Options.FilterOptions.WindowCase.MAX ? filter.getMax() : DEFAULT_SEARCH_WINDOW;
  const multiplier = Math.max(1, filter.getCheckpointintervalmultiplier());
  return {
    matches: (record) => test(onStream ? record.streamName : record.type),
    checkpointEvery: Math.max(1, window * multiplier),
  };
}
