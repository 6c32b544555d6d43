import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The audit index: one row per event of the log, with the columns auditors filter on. */
@Entity({ name: 'audit_index' })
export class AuditEntryRow {
  @PrimaryColumn({ type: 'bigint' }) position: string;
  @Index() @Column({ name: 'stream_name', type: 'text' }) streamName: string;
  @Column({ type: 'int' }) revision: number;
  @Index() @Column({ type: 'text' }) type: string;
  @Index() @Column({ name: 'actor_subject', type: 'text', nullable: true }) actorSubject: string | null;
  @Index() @Column({ name: 'tenant_id', type: 'text', nullable: true }) tenantId: string | null;
  @Column({ name: 'occurred_at', type: 'timestamptz', nullable: true }) occurredAt: Date | null;
  @Index() @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt: Date;
  @Column({ type: 'jsonb' }) data: unknown;
  @Column({ type: 'jsonb' }) metadata: unknown;
}
