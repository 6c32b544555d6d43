import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity({ name: 'systems' })
export class SystemRow {
  @PrimaryColumn({ name: 'system_id', type: 'text' }) systemId: string;
  @Index() @Column({ name: 'tenant_id', type: 'text' }) tenantId: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text' }) region: string;
  @Index() @Column({ name: 'key_link_id', type: 'text' }) keyLinkId: string;
  @Column({ type: 'text' }) status: string;
  @Column({ type: 'int' }) revision: number;
  @Column({ name: 'created_position', type: 'bigint' }) createdPosition: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
