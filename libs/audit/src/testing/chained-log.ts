import type { RecordedEvent } from '@cmk/event-store/event-store.port';
import { AUDIT_METADATA_KEY, AuditFields, chainFields } from '../hash-chain';

/** What a test says about an event; stream names and revisions follow from the order given. */
export interface EventSpec {
  stream: string;
  type?: string;
  data?: unknown;
  metadata?: Record<string, unknown>;
}

/**
 * Builds a correctly chained log in global order (positions 1, 2, 3, ... unless `positionStep` says otherwise),
 * the way an event store writing chain fields at append time would.
 */
export function chainedLog(specs: readonly EventSpec[], positionStep = 1n): RecordedEvent[] {
  const heads = new Map<string, { revision: number; audit: AuditFields }>();
  return specs.map((spec, i) => {
    const head = heads.get(spec.stream);
    const revision = head ? head.revision + 1 : 0;
    const base = {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      streamName: spec.stream,
      revision,
      position: BigInt(i + 1) * positionStep,
      type: spec.type ?? 'ThingHappened',
      data: spec.data ?? { n: i },
      metadata: { correlationId: `c-${i}`, ...spec.metadata } as RecordedEvent['metadata'],
      recordedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)),
    };
    const audit = chainFields(head ? head.audit : null, base);
    heads.set(spec.stream, { revision, audit });
    return { ...base, metadata: { ...base.metadata, [AUDIT_METADATA_KEY]: audit } };
  });
}

/** Recomputes the chain fields of every event of `streamName`, as a forger with write access would. */
export function rechain(events: RecordedEvent[], streamName: string): RecordedEvent[] {
  let prev: AuditFields | null = null;
  return events.map((event) => {
    if (event.streamName !== streamName) return event;
    const audit = chainFields(prev, event);
    prev = audit;
    return { ...event, metadata: { ...event.metadata, [AUDIT_METADATA_KEY]: audit } };
  });
}

/** A deep copy, so a test can tamper without touching the fixture. */
export function copyLog(events: readonly RecordedEvent[]): RecordedEvent[] {
  return events.map((event) => ({ ...event, data: structuredClone(event.data), metadata: structuredClone(event.metadata) }));
}
