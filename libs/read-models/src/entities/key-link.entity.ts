import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity({ name: 'key_links' })
export class KeyLinkRow {
  @PrimaryColumn({ name: 'key_link_id', type: 'text' }) keyLinkId: string;
  @Index() @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  @Column({ name: 'provider_kind', type: 'text' }) providerKind: string;
  @Column({ type: 'text' }) mode: string;
  @Column({ name: 'key_reference', type: 'text' }) keyReference: string;
  @Column({ type: 'text' }) algorithm: string;
  @Column({ name: 'key_size', type: 'int' }) keySize: number;
  @Column({ name: 'provider_region', type: 'text' }) providerRegion: string;
  @Index() @Column({ type: 'text' }) status: string;
  @Column({ name: 'revoked_from', type: 'text', nullable: true }) revokedFrom: string | null;
  @Column({ name: 'revocation_reason', type: 'text', nullable: true }) revocationReason: string | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt: Date | null;
  @Column({ type: 'text', nullable: true }) fingerprint: string | null;
  @Column({ name: 'key_version', type: 'text', nullable: true }) keyVersion: string | null;
  /** unknown, healthy, or the problem a health sync found (disabled, destroyed, not-found, ...). */
  @Column({ type: 'text', default: 'unknown' }) health: string;
  @Column({ name: 'health_problem_code', type: 'text', nullable: true }) healthProblemCode: string | null;
  @Column({ name: 'last_verified_at', type: 'timestamptz', nullable: true }) lastVerifiedAt: Date | null;
  @Column({ name: 'imported_at', type: 'timestamptz', nullable: true }) importedAt: Date | null;
  @Column({ name: 'import_expires_at', type: 'timestamptz', nullable: true }) importExpiresAt: Date | null;
  @Column({ name: 'credential_ref', type: 'text', nullable: true }) credentialRef: string | null;
  /** When the current key material came into use (null: since the link was created). */
  @Column({ name: 'key_since', type: 'timestamptz', nullable: true }) keySince: Date | null;
  @Column({ name: 'rotation_due_why', type: 'text', nullable: true }) rotationDueWhy: string | null;
  /** The L2 version new data keys are sealed under (1 plus the rotations requested). */
  @Column({ name: 'tenant_key_version', type: 'int', default: 1 }) tenantKeyVersion: number;
  /** When that L2 version began: its rotation request, or (version 1) the link's first activation. */
  @Column({ name: 'tenant_key_since', type: 'timestamptz', nullable: true }) tenantKeySince: Date | null;
  @Column({ type: 'int' }) revision: number;
  @Column({ name: 'created_position', type: 'bigint' }) createdPosition: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
