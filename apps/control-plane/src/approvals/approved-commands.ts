import type { ApprovableOperation } from '@cmk/domain';
import type { ExecutionContext } from '../shared/aggregates';
import { RestoreKeyLinkCommand } from '../key-links/restore-key-link/restore-key-link.handler';
import { UnlinkKeyCommand } from '../key-links/unlink-key/unlink-key.handler';
import { OffboardTenantCommand } from '../tenants/offboard-tenant/offboard-tenant.handler';
import { DefinePolicyCommand } from '../policies/define-policy/define-policy.handler';
import { RevisePolicyCommand } from '../policies/revise-policy/revise-policy.handler';
import { AssignPolicyCommand } from '../policies/assign-policy/assign-policy.handler';
import { UnassignPolicyCommand } from '../policies/unassign-policy/unassign-policy.handler';
import type { DefinePolicyRequest, RevisePolicyRequest } from '../policies/define-policy/define-policy.request.dto';

type Target = Record<string, string>;
type Body = Record<string, unknown>;

/**
 * Rebuilds a held command from its ApprovalRequested event, to run through the CommandBus as the initiator.
 * The inverse of what each handler hands the ApprovalGate (target ids and request body).
 */
const BUILDERS: Record<ApprovableOperation, (target: Target, request: Body, ctx: ExecutionContext) => object> = {
  RestoreKeyLink: (t, r, ctx) => new RestoreKeyLinkCommand(t.keyLinkId, r.reason as string | undefined, ctx),
  UnlinkKey: (t, r, ctx) => new UnlinkKeyCommand(t.keyLinkId, r.reason as string | undefined, ctx),
  OffboardTenant: (t, r, ctx) => new OffboardTenantCommand(t.tenantId, r.reason as string, ctx),
  DefinePolicy: (t, r, ctx) => new DefinePolicyCommand({ ...(r as unknown as DefinePolicyRequest), policyId: t.policyId }, ctx),
  RevisePolicy: (t, r, ctx) => new RevisePolicyCommand(t.policyId, r as unknown as RevisePolicyRequest, ctx),
  AssignPolicy: (t, r, ctx) => new AssignPolicyCommand(t.policyId, t.scope, r.version as number | undefined, ctx, r.acceptImpact as boolean | undefined),
  UnassignPolicy: (t, _r, ctx) => new UnassignPolicyCommand(t.policyId, t.scope, ctx),
};

export function approvedCommand(operation: ApprovableOperation, target: Target, request: Body, ctx: ExecutionContext): object {
  return BUILDERS[operation](target, request, ctx);
}
