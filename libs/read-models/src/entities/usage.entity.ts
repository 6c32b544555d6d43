import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Mirrors usage_daily in read-model.ddl.ts. */
@Entity({ name: 'usage_daily' })
export class UsageDailyRow {
  @PrimaryColumn({ type: 'date' }) day!: string;
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @PrimaryColumn({ name: 'system_id', type: 'text' }) systemId!: string;
  @PrimaryColumn({ type: 'text' }) operation!: string;
  @PrimaryColumn({ type: 'text' }) outcome!: string;
  @PrimaryColumn({ type: 'text' }) region!: string;
  @Column({ type: 'bigint' }) count!: string;
}
