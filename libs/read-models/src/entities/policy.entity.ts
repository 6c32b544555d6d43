import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'policies' })
export class PolicyRow {
  @PrimaryColumn({ name: 'policy_id', type: 'text' }) policyId: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text', nullable: true }) description: string | null;
  @Column({ name: 'latest_version', type: 'int' }) latestVersion: number;
  @Column({ name: 'created_position', type: 'bigint' }) createdPosition: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@Entity({ name: 'policy_versions' })
export class PolicyVersionRow {
  @PrimaryColumn({ name: 'policy_id', type: 'text' }) policyId: string;
  @PrimaryColumn({ type: 'int' }) version: number;
  @Column({ type: 'jsonb' }) document: unknown;
  @Column({ name: 'defined_at', type: 'timestamptz' }) definedAt: Date;
  @Column({ name: 'defined_by', type: 'text', nullable: true }) definedBy: string | null;
}

@Entity({ name: 'policy_assignments' })
export class PolicyAssignmentRow {
  @PrimaryColumn({ type: 'text' }) scope: string;
  @PrimaryColumn({ name: 'policy_id', type: 'text' }) policyId: string;
  /** A pinned version number, or 'latest'. */
  @Column({ type: 'text' }) version: string;
  @Column({ name: 'assigned_at', type: 'timestamptz' }) assignedAt: Date;
}
