import type { RecordedEvent } from '@cmk/event-store/event-store.port';
import { auditLeaf } from '../../audit-leaf';
import { ed25519Sign, Ed25519Signer, generateEd25519Signer, rawEd25519PublicKey, signCheckpoint } from '../../ed25519';
import { leafHash, rootFromLeafHashes } from '../../merkle';
import { chainedLog, EventSpec } from '../../testing/chained-log';
import { AuditKeyDocument, BundledCheckpoint } from '../evidence-bundle';
import { buildEvidenceBundle, EvidenceBundle } from '../evidence-bundle.builder';
import { selectEvidence } from '../evidence-selection';

export const TENANT = '11111111-1111-4111-8111-111111111111';
export const OTHER = '22222222-2222-4222-8222-222222222222';
export const POLICY = '33333333-3333-4333-8333-333333333333';
export const LINK = '44444444-4444-4444-8444-444444444444';
export const SYSTEM = '55555555-5555-4555-8555-555555555555';
export const APPROVAL = '66666666-6666-4666-8666-666666666666';
export const APPROVAL2 = '77777777-7777-4777-8777-777777777777';
/** Another tenant's request naming the same (shared) policy: its evidence, not ours. */
export const OTHERS_APPROVAL = '88888888-8888-4888-8888-888888888888';
export const OTHERS_POLICY = '99999999-9999-4999-8999-999999999999';
export const HOSTILE_NAME = 'EU residency <script>alert("x")</script> & more';
export const HOSTILE_SUBJECT = 'mallory"><img src=x onerror=alert(1)>';

const who = (subject: string, roles = ['security-officer']) => ({ subject, roles });
const approvalMeta = (approvalId: string, initiator: string, approvers: string[]) => ({ approval: { approvalId, initiator: who(initiator), approvers: approvers.map((a) => who(a)) } });

/**
 * A small but complete governance history: a tenant with a policy defined and revised under two-person approval,
 * assigned to it, a key link activated and revoked with receipts from two regions, refusals (its own and another
 * tenant's in the same day stream), and another tenant whose events must stay out of the bundle.
 */
export function governanceLog(): RecordedEvent[] {
  const specs: EventSpec[] = [
    { stream: `tenant-${TENANT}`, type: 'TenantOnboarded', data: { tenantId: TENANT, displayName: 'ACME', jurisdiction: 'EU', homeRegion: 'eu-central-1' }, metadata: { actor: who('ops') } },
    { stream: `tenant-${OTHER}`, type: 'TenantOnboarded', data: { tenantId: OTHER, displayName: 'Other', jurisdiction: 'US', homeRegion: 'us-east-1' }, metadata: { actor: who('ops') } },
    { stream: `approval-${APPROVAL}`, type: 'ApprovalRequested', data: { approvalId: APPROVAL, action: 'policy.define', operation: 'define-policy', target: { policyId: POLICY }, request: {}, initiator: who('alice'), requiredApprovers: 2, approverRoles: ['security-officer'], expiresAt: '2025-01-08T00:00:00.000Z', setBy: [] }, metadata: { actor: who('alice') } },
    { stream: `approval-${APPROVAL}`, type: 'ApprovalGranted', data: { approvalId: APPROVAL, approver: who('bob') }, metadata: { actor: who('bob') } },
    { stream: `approval-${APPROVAL}`, type: 'ApprovalGranted', data: { approvalId: APPROVAL, approver: who('carol') }, metadata: { actor: who('carol') } },
    { stream: `policy-${POLICY}`, type: 'PolicyDefined', data: { policyId: POLICY, name: HOSTILE_NAME, version: 1, document: { geofence: { unwrapRegions: { EU: ['eu-central-1', 'eu-west-1'] } } } }, metadata: { actor: who('alice'), ...approvalMeta(APPROVAL, 'alice', ['bob', 'carol']) } },
    { stream: `approval-${APPROVAL}`, type: 'ApprovalExecuted', data: { approvalId: APPROVAL, resultStream: `policy-${POLICY}`, position: '6', events: ['PolicyDefined'] }, metadata: { actor: who('alice') } },
    { stream: `policyscope-${TENANT}`, type: 'PolicyAssigned', data: { scope: TENANT, policyId: POLICY, version: 'latest' }, metadata: { actor: who('alice') } },
    { stream: `keylink-${LINK}`, type: 'KeyLinked', data: { keyLinkId: LINK, tenantId: TENANT, providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=acme;object=root-2026', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' }, metadata: { actor: who('kim', ['key-admin']) } },
    { stream: `keylink-${LINK}`, type: 'KeyLinkActivated', data: { keyLinkId: LINK, tenantId: TENANT }, metadata: { actor: who('kim', ['key-admin']) } },
    { stream: `system-${SYSTEM}`, type: 'SystemRegistered', data: { systemId: SYSTEM, tenantId: TENANT, name: 'billing', region: 'eu-central-1', keyLinkId: LINK }, metadata: { actor: who('kim', ['key-admin']) } },
    { stream: 'denied-20250101', type: 'AccessDenied', data: { at: '2025-01-01T00:00:11.000Z', method: 'GET', path: '/v1/key-links', target: {}, status: 403, reason: 'tenant-scope', subject: HOSTILE_SUBJECT, roles: ['auditor'], refusedTenantId: TENANT, source: '10.0.0.9' }, metadata: {} },
    { stream: 'denied-20250101', type: 'AccessDenied', data: { at: '2025-01-01T00:00:12.000Z', method: 'GET', path: '/v1/key-links', target: {}, status: 403, reason: 'tenant-scope', subject: 'eve', roles: ['auditor'], refusedTenantId: OTHER, source: '10.0.0.8' }, metadata: {} },
    { stream: `keylink-${OTHER}`, type: 'KeyLinked', data: { keyLinkId: OTHER, tenantId: OTHER, providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=other;object=k', algorithm: 'AES', keySize: 256, providerRegion: 'us-east-1' }, metadata: { actor: who('ops') } },
    { stream: `approval-${APPROVAL2}`, type: 'ApprovalRequested', data: { approvalId: APPROVAL2, action: 'policy.revise', operation: 'revise-policy', target: { policyId: POLICY }, request: {}, initiator: who('alice'), requiredApprovers: 2, approverRoles: ['security-officer'], expiresAt: '2025-01-08T00:00:00.000Z', setBy: [] }, metadata: { actor: who('alice') } },
    { stream: `approval-${APPROVAL2}`, type: 'ApprovalGranted', data: { approvalId: APPROVAL2, approver: who('bob') }, metadata: { actor: who('bob') } },
    { stream: `approval-${APPROVAL2}`, type: 'ApprovalGranted', data: { approvalId: APPROVAL2, approver: who('dave') }, metadata: { actor: who('dave') } },
    { stream: `policy-${POLICY}`, type: 'PolicyRevised', data: { policyId: POLICY, version: 2, document: { geofence: { unwrapRegions: { EU: ['eu-central-1'] } } } }, metadata: { actor: who('alice'), ...approvalMeta(APPROVAL2, 'alice', ['bob', 'dave']) } },
    { stream: `approval-${APPROVAL2}`, type: 'ApprovalExecuted', data: { approvalId: APPROVAL2, resultStream: `policy-${POLICY}`, position: '18', events: ['PolicyRevised'] }, metadata: { actor: who('alice') } },
    { stream: `keylink-${LINK}`, type: 'KeyLinkRevoked', data: { keyLinkId: LINK, tenantId: TENANT, reason: 'suspected compromise', previousStatus: 'active' }, metadata: { actor: who('sam') } },
    { stream: `enforcement-${TENANT}`, type: 'RevocationDispatched', data: { tenantId: TENANT, keyLinkId: LINK, cause: 'KeyLinkRevoked', revocationPosition: '20', regions: ['eu-central-1', 'eu-west-1'] }, metadata: {} },
    { stream: `enforcement-${TENANT}`, type: 'RevocationEnforced', data: { tenantId: TENANT, keyLinkId: LINK, cause: 'KeyLinkRevoked', revocationPosition: '20', workerId: 'w-eu-1', region: 'eu-central-1', enforcedAt: '2025-01-01T00:00:19.012Z' }, metadata: {} },
    { stream: 'denied-20250101', type: 'AccessDenied', data: { at: '2025-01-01T00:00:23.000Z', method: 'POST', path: '/v1/key-links/:keyLinkId/restore', target: { keyLinkId: LINK }, status: 403, reason: 'tenant-scope', subject: 'trent', roles: ['key-admin'], refusedTenantId: TENANT, source: '10.0.0.7' }, metadata: {} },
    { stream: `enforcement-${TENANT}`, type: 'RevocationEnforced', data: { tenantId: TENANT, keyLinkId: LINK, cause: 'KeyLinkRevoked', revocationPosition: '20', workerId: 'w-euw-1', region: 'eu-west-1', enforcedAt: '2025-01-01T00:00:19.030Z' }, metadata: {} },
    { stream: `approval-${OTHERS_APPROVAL}`, type: 'ApprovalRequested', data: { approvalId: OTHERS_APPROVAL, action: 'policy.assign', operation: 'assign-policy', tenantId: OTHER, target: { policyId: POLICY, scope: OTHER }, request: {}, initiator: who('olga'), requiredApprovers: 2, approverRoles: ['security-officer'], expiresAt: '2025-01-08T00:00:00.000Z', setBy: [] }, metadata: { actor: who('olga') } },
    // Regional workers: a confirmation of the policy's version 2 (next to a policy that is not the tenant's), and refusals.
    { stream: 'worker-w-eu-1', type: 'WorkerEnforcementReported', data: { workerId: 'w-eu-1', region: 'eu-central-1', startedAt: '2025-01-01T00:00:00.000Z', ready: true, policies: [{ policyId: POLICY, version: 2, tenants: 1 }, { policyId: OTHERS_POLICY, version: 4, tenants: 1 }], servedTenants: 2, reportedAt: '2025-01-01T00:00:17.250Z' }, metadata: { actor: who('worker:w-eu-1', ['regional-worker']) } },
    { stream: 'worker-w-eu-1', type: 'WorkerEnforcementReported', data: { workerId: 'w-eu-1', region: 'eu-central-1', startedAt: '2025-01-01T00:00:00.000Z', ready: true, policies: [{ policyId: OTHERS_POLICY, version: 5, tenants: 1 }], servedTenants: 1, reportedAt: '2025-01-01T00:00:30.000Z' }, metadata: { actor: who('worker:w-eu-1', ['regional-worker']) } },
    { stream: `workerdenied-20250101-${TENANT}`, type: 'WorkerAccessDenied', data: { at: '2025-01-01T00:00:19.500Z', tenantId: TENANT, systemId: SYSTEM, operation: 'unwrap', keyLinkId: LINK, reason: 'key-link-revoked', subject: 'svc-billing', workerId: 'w-eu-1', region: 'eu-central-1', reportId: 'r1' }, metadata: { actor: who('worker:w-eu-1', ['regional-worker']) } },
    { stream: `workerdenied-20250101-${TENANT}`, type: 'WorkerAccessDeniedSuppressed', data: { tenantId: TENANT, systemId: SYSTEM, reason: 'key-link-revoked', count: 37, window: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-01T00:01:00.000Z' }, workerId: 'w-eu-1', region: 'eu-central-1', reportId: 'r1' }, metadata: { actor: who('worker:w-eu-1', ['regional-worker']) } },
    { stream: `workerdenied-20250101-${OTHER}`, type: 'WorkerAccessDenied', data: { at: '2025-01-01T00:00:19.600Z', tenantId: OTHER, systemId: 'other-system', operation: 'wrap', reason: 'unknown-system', subject: 'svc-eve', workerId: 'w-eu-1', region: 'eu-central-1', reportId: 'r1' }, metadata: { actor: who('worker:w-eu-1', ['regional-worker']) } },
  ];
  return chainedLog(specs);
}

export const WINDOW = { from: new Date('2025-01-01T00:00:00.000Z'), to: new Date('2025-01-01T01:00:00.000Z') };

export function keyDocument(signer: Ed25519Signer): AuditKeyDocument {
  return { keyId: signer.keyId, alg: 'Ed25519', publicKey: rawEd25519PublicKey(signer.publicKey).toString('base64url'), spkiPem: signer.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Seals the log at two tree sizes and builds the tenant's bundle, as the control plane's export does. */
export async function fixtureBundle(signer = generateEd25519Signer(), asOf: Date[] = [], regions: string[] = []): Promise<{ bundle: EvidenceBundle; signer: Ed25519Signer; log: RecordedEvent[] }> {
  const log = governanceLog();
  const hashes = log.map((e) => leafHash(auditLeaf(e)));
  const checkpoints: BundledCheckpoint[] = [12, log.length].map((n, i) => ({
    ...signCheckpoint({ treeSize: n, rootHash: rootFromLeafHashes(hashes.slice(0, n)).toString('hex'), time: `2025-01-01T00:0${i + 1}:00.000Z` }, signer),
    lastPosition: String(log[n - 1].position),
  }));
  const bundle = await buildEvidenceBundle({
    tenantId: TENANT,
    window: WINDOW,
    asOf,
    generatedAt: new Date('2025-01-01T02:00:00.000Z'),
    generatedBy: 'auditor-ann',
    selection: selectEvidence(log, TENANT, WINDOW),
    leafIndex: new Map(log.map((e, i) => [e.position.toString(), i])),
    leafHashes: hashes,
    checkpoints,
    keys: [keyDocument(signer)],
    regions,
    signer: { keyId: signer.keyId, sign: async (payload) => ed25519Sign(signer.privateKey, payload) },
  });
  return { bundle, signer, log };
}
