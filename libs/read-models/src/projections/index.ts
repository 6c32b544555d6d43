import { Projection } from '../projection';
import { AuditIndexProjection } from './audit-index.projection';
import { KeyLinksProjection } from './key-links.projection';
import { PoliciesProjection } from './policies.projection';
import { SystemsProjection } from './systems.projection';
import { TenantsProjection } from './tenants.projection';

export { AuditIndexProjection, KeyLinksProjection, PoliciesProjection, SystemsProjection, TenantsProjection };
export const defaultProjections = (): Projection[] => [
  new TenantsProjection(),
  new SystemsProjection(),
  new KeyLinksProjection(),
  new PoliciesProjection(),
  new AuditIndexProjection(),
];
