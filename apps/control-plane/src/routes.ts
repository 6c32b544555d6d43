import { OnboardTenantController } from './tenants/onboard-tenant/onboard-tenant.http.controller';
import { OnboardTenantHandler } from './tenants/onboard-tenant/onboard-tenant.handler';
import { UpdateTenantController } from './tenants/update-tenant/update-tenant.http.controller';
import { UpdateTenantHandler } from './tenants/update-tenant/update-tenant.handler';
import { SuspendTenantController } from './tenants/suspend-tenant/suspend-tenant.http.controller';
import { SuspendTenantHandler } from './tenants/suspend-tenant/suspend-tenant.handler';
import { ResumeTenantController } from './tenants/resume-tenant/resume-tenant.http.controller';
import { ResumeTenantHandler } from './tenants/resume-tenant/resume-tenant.handler';
import { OffboardTenantController } from './tenants/offboard-tenant/offboard-tenant.http.controller';
import { OffboardTenantHandler } from './tenants/offboard-tenant/offboard-tenant.handler';
import { QueryTenantsController } from './tenants/query-tenants/query-tenants.http.controller';
import { LinkKeyController } from './key-links/link-key/link-key.http.controller';
import { LinkKeyHandler } from './key-links/link-key/link-key.handler';
import { ActivateKeyLinkController } from './key-links/activate-key-link/activate-key-link.http.controller';
import { ActivateKeyLinkHandler } from './key-links/activate-key-link/activate-key-link.handler';
import { RevokeKeyLinkController } from './key-links/revoke-key-link/revoke-key-link.http.controller';
import { RevokeKeyLinkHandler } from './key-links/revoke-key-link/revoke-key-link.handler';
import { RestoreKeyLinkController } from './key-links/restore-key-link/restore-key-link.http.controller';
import { RestoreKeyLinkHandler } from './key-links/restore-key-link/restore-key-link.handler';
import { UnlinkKeyController } from './key-links/unlink-key/unlink-key.http.controller';
import { UnlinkKeyHandler } from './key-links/unlink-key/unlink-key.handler';
import { QueryKeyLinksController } from './key-links/query-key-links/query-key-links.http.controller';
import { VerifyKeyLinkController } from './key-links/verify-key-link/verify-key-link.http.controller';
import { VerifyKeyLinkHandler } from './key-links/verify-key-link/verify-key-link.handler';
import { ImportKeyMaterialController } from './key-links/import-key-material/import-key-material.http.controller';
import { IssueImportParametersHandler } from './key-links/import-key-material/issue-import-parameters.handler';
import { ImportKeyMaterialHandler } from './key-links/import-key-material/import-key-material.handler';
import { SyncKeyLinkController } from './key-links/sync-key-link/sync-key-link.http.controller';
import { RotateKeyLinkController } from './key-links/rotate-key-link/rotate-key-link.http.controller';
import { RotateKeyLinkHandler } from './key-links/rotate-key-link/rotate-key-link.handler';
import { RotateTenantKeyController } from './key-links/rotate-tenant-key/rotate-tenant-key.http.controller';
import { RotateTenantKeyHandler } from './key-links/rotate-tenant-key/rotate-tenant-key.handler';
import { KeyRotationController } from './key-links/rotation-scheduler/key-rotation.http.controller';
import { AuditKeysController, AuditProofsController } from './audit/sealer/audit-proofs.http.controller';
import { ExportEvidenceController } from './audit/evidence/export-evidence.http.controller';
import { SiemController } from './audit/siem/siem.http.controller';
import { RevocationReceiptController } from './key-links/revocation-receipt/revocation-receipt.http.controller';
import { RegisterSystemController } from './systems/register-system/register-system.http.controller';
import { RegisterSystemHandler } from './systems/register-system/register-system.handler';
import { DeregisterSystemController } from './systems/deregister-system/deregister-system.http.controller';
import { DeregisterSystemHandler } from './systems/deregister-system/deregister-system.handler';
import { RebindSystemController } from './systems/rebind-system/rebind-system.http.controller';
import { RebindSystemHandler } from './systems/rebind-system/rebind-system.handler';
import { QuerySystemsController } from './systems/query-systems/query-systems.http.controller';
import { DefinePolicyController } from './policies/define-policy/define-policy.http.controller';
import { DefinePolicyHandler } from './policies/define-policy/define-policy.handler';
import { RevisePolicyController } from './policies/revise-policy/revise-policy.http.controller';
import { RevisePolicyHandler } from './policies/revise-policy/revise-policy.handler';
import { AssignPolicyController } from './policies/assign-policy/assign-policy.http.controller';
import { AssignPolicyHandler } from './policies/assign-policy/assign-policy.handler';
import { UnassignPolicyHandler } from './policies/unassign-policy/unassign-policy.handler';
import { SimulatePolicyController } from './policies/simulate-policy/simulate-policy.http.controller';
import { PolicySchemaController } from './policies/policy-schema.http.controller';
import { QueryPoliciesController } from './policies/query-policies/query-policies.http.controller';
import { ComplianceController } from './compliance/compliance.http.controller';
import { KillSwitchController } from './kill-switch/kill-switch.http.controller';
import { QueryUsageController } from './usage/query-usage/query-usage.http.controller';
import { QueryAuditEventsController } from './audit/query-audit-events/query-audit-events.http.controller';
import { TimeTravelController } from './audit/time-travel/time-travel.http.controller';
import { ProjectionsController } from './admin/projections.http.controller';
import { HealthController } from './health/health.http.controller';
import { EmbeddedMeshController } from './embedded/workload-token.http.controller';
import { MetricsController } from './health/metrics.http.controller';
import { ApprovalsController } from './approvals/approvals.http.controller';

/** The route table: every controller and command handler of the control plane. */
export const Controllers = [
  OnboardTenantController, UpdateTenantController, SuspendTenantController, ResumeTenantController, OffboardTenantController, QueryTenantsController,
  LinkKeyController, ActivateKeyLinkController, RevokeKeyLinkController, RestoreKeyLinkController, UnlinkKeyController, QueryKeyLinksController, RevocationReceiptController,
  VerifyKeyLinkController, ImportKeyMaterialController, SyncKeyLinkController, RotateKeyLinkController, RotateTenantKeyController, KeyRotationController,
  RegisterSystemController, DeregisterSystemController, RebindSystemController, QuerySystemsController,
  DefinePolicyController, RevisePolicyController, AssignPolicyController, PolicySchemaController, QueryPoliciesController, SimulatePolicyController,
  ApprovalsController,
  QueryAuditEventsController, TimeTravelController, AuditProofsController, AuditKeysController, ExportEvidenceController, SiemController, QueryUsageController, KillSwitchController, ComplianceController,
];
export const AdminModuleControllers = [ProjectionsController, HealthController, MetricsController, EmbeddedMeshController];

export const Handlers = [
  OnboardTenantHandler, UpdateTenantHandler, SuspendTenantHandler, ResumeTenantHandler, OffboardTenantHandler,
  LinkKeyHandler, ActivateKeyLinkHandler, RevokeKeyLinkHandler, RestoreKeyLinkHandler, UnlinkKeyHandler,
  VerifyKeyLinkHandler, IssueImportParametersHandler, ImportKeyMaterialHandler, RotateKeyLinkHandler, RotateTenantKeyHandler,
  RegisterSystemHandler, DeregisterSystemHandler, RebindSystemHandler,
  DefinePolicyHandler, RevisePolicyHandler, AssignPolicyHandler, UnassignPolicyHandler,
];
