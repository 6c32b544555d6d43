import type { RecordedEvent } from '@cmk/event-store';
import { KEY_LINK_EVENT_TYPES, parseStreamName } from '@cmk/domain';
import { eventTime, Row, RowFoldProjection } from '../projection';

export class KeyLinksProjection extends RowFoldProjection {
  readonly name = 'key-links';
  readonly table = 'key_links';
  readonly key = 'key_link_id';
  protected readonly eventTypes = KEY_LINK_EVENT_TYPES;

  protected idOf(e: RecordedEvent): string {
    return parseStreamName(e.streamName).id;
  }

  protected evolve(row: Row | undefined, e: RecordedEvent): Row | undefined {
    const d = e.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const at = eventTime(e);
    if (e.type === 'KeyLinked')
      return {
        key_link_id: d.keyLinkId,
        tenant_id: d.tenantId,
        provider_kind: d.providerKind,
        mode: d.mode,
        key_reference: d.keyReference,
        algorithm: d.algorithm,
        key_size: d.keySize,
        provider_region: d.providerRegion,
        status: 'pending',
        revoked_from: null,
        revocation_reason: null,
        revoked_at: null,
        revision: e.revision,
        created_position: e.position.toString(),
        created_at: at,
        updated_at: at,
      };
    if (!row) return undefined;
    const next: Row = { ...row, revision: e.revision, updated_at: at };
    switch (e.type) {
      case 'KeyLinkActivated':
        return { ...next, status: 'active' };
      case 'KeyLinkRevoked':
        return { ...next, status: 'revoked', revoked_from: d.previousStatus, revocation_reason: d.reason, revoked_at: at };
      case 'KeyLinkRestored':
        return { ...next, status: d.restoredStatus, revoked_from: null, revocation_reason: null, revoked_at: null };
      case 'KeyUnlinked':
        return { ...next, status: 'unlinked' };
      default:
        return next;
    }
  }
}
