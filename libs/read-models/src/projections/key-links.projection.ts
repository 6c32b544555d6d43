import type { RecordedEvent } from '@cmk/event-store';
import { KEY_LINK_EVENT_TYPES } from '@cmk/domain';
import { eventTime, Row, RowFoldProjection } from '../projection';

export class KeyLinksProjection extends RowFoldProjection {
  readonly name = 'key-links';
  readonly table = 'key_links';
  readonly key = 'key_link_id';
  protected readonly eventTypes = KEY_LINK_EVENT_TYPES;

  protected evolveRow(row: Row | undefined, e: RecordedEvent): Row | undefined {
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
    switch (e.type) {
      case 'KeyLinkActivated':
        return { ...row, status: 'active' };
      case 'KeyLinkRevoked':
        return { ...row, status: 'revoked', revoked_from: d.previousStatus, revocation_reason: d.reason, revoked_at: at };
      case 'KeyLinkRestored':
        return { ...row, status: d.restoredStatus, revoked_from: null, revocation_reason: null, revoked_at: null };
      case 'KeyUnlinked':
        return { ...row, status: 'unlinked' };
      default:
        return row;
    }
  }
}
