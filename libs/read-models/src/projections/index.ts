import { Projection } from '../projection';
import { AuditIndexProjection } from './audit-index.projection';
import { KeyLinksProjection } from './key-links.projection';
import { PoliciesProjection } from './policies.projection';
import { SystemsProjection } from './systems.projection';
import { TenantsProjection } from './tenants.projection';
import { UsageProjection } from './usage.projection';
import { AuditLeavesProjection } from './audit-leaves.projection';
import { AuditCheckpointsProjection } from './audit-checkpoints.projection';
import { WorkersProjection } from './workers.projection';

export { AuditCheckpointsProjection, AuditIndexProjection, AuditLeavesProjection, KeyLinksProjection, PoliciesProjection, SystemsProjection, TenantsProjection, UsageProjection, WorkersProjection };
/** @param eventsTable the event store's table when it is in the read models' database (enables in-database copies) */
export const defaultProjections = (eventsTable?: string): Projection[] => [
  new TenantsProjection(),
  new SystemsProjection(),
  new KeyLinksProjection(),
  new PoliciesProjection(),
  new AuditIndexProjection(eventsTable),
  new UsageProjection(),
  new AuditLeavesProjection(),
  new AuditCheckpointsProjection(),
  new WorkersProjection(),
];
