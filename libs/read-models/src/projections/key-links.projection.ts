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
        fingerprint: null,
        key_version: null,
        health: 'unknown',
        health_problem_code: null,
        last_verified_at: null,
        imported_at: null,
        import_expires_at: null,
        credential_ref: d.credentialRef ?? null,
        key_since: null,
        rotation_due_why: null,
        tenant_key_version: 1,
        tenant_key_since: null,
        revision: e.revision,
        created_position: e.position.toString(),
        created_at: at,
        updated_at: at,
      };
    if (!row) return undefined;
    switch (e.type) {
      case 'KeyLinkActivated':
        // L2 version 1 is made for the first activation; a later one (after revoke, restore to pending) keeps it.
        return { ...row, status: 'active', tenant_key_since: row.tenant_key_since ?? at };
      case 'KeyLinkRevoked':
        return { ...row, status: 'revoked', revoked_from: d.previousStatus, revocation_reason: d.reason, revoked_at: at };
      case 'KeyLinkRestored':
        return { ...row, status: d.restoredStatus, revoked_from: null, revocation_reason: null, revoked_at: null };
      case 'KeyUnlinked':
        return { ...row, status: 'unlinked' };
      case 'KeyPossessionProven':
        return { ...row, fingerprint: d.fingerprint, key_version: d.keyVersion ?? row.key_version, health: 'healthy', health_problem_code: null, last_verified_at: at };
      case 'KeyImportParametersIssued':
        return { ...row, import_expires_at: d.expiresAt };
      case 'KeyMaterialImported':
        return { ...row, fingerprint: d.fingerprint, key_version: d.keyVersion ?? null, imported_at: at, import_expires_at: null, key_since: at };
      case 'KeyLinkDegraded':
        return { ...row, health: d.condition, health_problem_code: d.providerCode ?? null };
      case 'KeyLinkHealthRestored':
        return { ...row, health: 'healthy', health_problem_code: null, last_verified_at: at };
      case 'KeyVersionRotatedAtProvider':
      case 'KeyLinkRotated':
        return { ...row, fingerprint: d.fingerprint, key_version: d.keyVersion, key_since: at, rotation_due_why: null };
      case 'KeyRotationDue':
        return { ...row, rotation_due_why: d.why };
      case 'TenantKeyRotationRequested':
        // Counted like the decider and the workers' views count, so all three agree on the version.
        return { ...row, tenant_key_version: Number(row.tenant_key_version ?? 1) + 1, tenant_key_since: at };
      default:
        return row;
    }
  }
}
