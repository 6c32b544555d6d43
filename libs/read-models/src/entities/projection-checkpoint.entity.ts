import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A projection's checkpoint and ownership lease; updated in the same transaction as its rows. */
@Entity({ name: 'projection_checkpoints' })
export class ProjectionCheckpointRow {
  @PrimaryColumn({ type: 'text' }) name: string;
  @Column({ type: 'bigint' }) position: string;
  @Column({ type: 'text', nullable: true }) owner: string | null;
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil: Date | null;
  @Column({ type: 'text' }) status: string;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
