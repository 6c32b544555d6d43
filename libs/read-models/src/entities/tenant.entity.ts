import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity({ name: 'tenants' })
export class TenantRow {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId: string;
  @Column({ name: 'display_name', type: 'text' }) displayName: string;
  @Index() @Column({ type: 'text' }) jurisdiction: string;
  @Column({ name: 'home_region', type: 'text' }) homeRegion: string;
  @Column({ name: 'data_classification', type: 'text' }) dataClassification: string;
  @Column({ type: 'jsonb' }) contacts: unknown[];
  @Index() @Column({ type: 'text' }) status: string;
  @Column({ type: 'int' }) revision: number;
  @Column({ name: 'created_position', type: 'bigint' }) createdPosition: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
