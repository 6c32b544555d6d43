import { Categories, ENFORCEMENT_CAUSES, type EnforcementCause, parseStreamName } from '@cmk/domain';
import {
  decryptAccess,
  type DecryptAccessAnswer,
  effectivePolicies,
  type EnforcementReceipt,
  foldAll,
  type RevocationRecord,
  type TenantView,
  viewOf,
} from '@cmk/orbital';
import type { BundledEvent } from './evidence-bundle';

/**
 * The answers auditors ask for (SOC 2, ISO 27001, HIPAA), computed from the bundled events alone, so anyone holding
 * the bundle can recompute the report and compare.
 */
export interface EvidenceFacts {
  tenantId: string;
  window: { from: string; to: string };
  policyChanges: PolicyChange[];
  keyLinkEvents: KeyLinkChange[];
  revocations: RevocationReceiptFact[];
  approvals: ApprovalFact[];
  denied: DeniedFact[];
  /** Requests regional workers refused for the tenant (recorded one by one up to the worker's limit). */
  regionDenied: RegionDeniedFact[];
  /** Refusals beyond the worker's limit, counted. */
  regionDeniedSuppressed: { region: string; workerId: string; systemId?: string; reason: string; count: number; from: string; to: string }[];
  /** When each worker first confirmed it enforces a version of a bundled policy. */
  policyEnforcement: PolicyEnforcementFact[];
  states: StateAt[];
}

export interface RegionDeniedFact {
  at: string;
  region: string;
  workerId: string;
  systemId?: string;
  subject?: string;
  operation: string;
  keyLinkId?: string;
  reason: string;
}

export interface PolicyEnforcementFact {
  policyId: string;
  policyName?: string;
  version: number;
  region: string;
  workerId: string;
  /** The worker's report time. */
  confirmedAt: string;
}

export interface ApprovalRef {
  approvalId: string;
  initiator: string;
  approvers: string[];
}

export interface PolicyChange {
  at: string;
  position: string;
  /** PolicyDefined, PolicyRevised, PolicyAssigned, PolicyUnassigned. */
  type: string;
  policyId: string;
  policyName?: string;
  /** Version defined or revised to, or the one assigned ('latest' follows revisions). */
  version?: number | 'latest';
  scope?: string;
  actor: string;
  approval?: ApprovalRef;
}

export interface KeyLinkChange {
  at: string;
  position: string;
  type: string;
  keyLinkId: string;
  actor: string;
  detail: string;
  approval?: ApprovalRef;
}

export interface RevocationReceiptFact {
  revocationPosition: string;
  cause: string;
  keyLinkId?: string;
  revokedAt?: string;
  actor?: string;
  reason?: string;
  dispatchedAt?: string;
  dispatchedRegions: string[];
  enforced: { region: string; workerId: string; enforcedAt: string; afterMs?: number }[];
  pendingRegions: string[];
}

export interface ApprovalFact {
  approvalId: string;
  action: string;
  target: Record<string, string>;
  requestedAt?: string;
  initiator?: string;
  requiredApprovers?: number;
  granted: { approver: string; at: string }[];
  outcome: 'pending' | 'executed' | 'failed' | 'rejected' | 'expired';
  outcomeDetail?: string;
}

export interface DeniedFact {
  at: string;
  position: string;
  method: string;
  path: string;
  status: number;
  reason: string;
  subject: string;
  roles: string[];
  source: string;
}

export interface StateAt {
  asOf: string;
  /** Position of the last bundled event folded in. */
  position: string;
  view?: TenantView;
  policies: { policyId: string; name?: string; version: number }[];
  /** Who could decrypt at that time, judged per region as a worker would (libs/orbital decrypt-access). */
  access?: DecryptAccessAnswer;
  /** Regions the judgement covers: the deployment's configured ones, else all the bundle names (receipts, systems, home region). */
  regions: string[];
  regionsSource: 'configured' | 'bundle';
}

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dataOf = (e: BundledEvent): Data => (e.data && typeof e.data === 'object' ? (e.data as Data) : {});
const actorOf = (e: BundledEvent): string => String((e.metadata?.actor as { subject?: unknown } | undefined)?.subject ?? 'unknown');
const atOf = (e: BundledEvent): string => (typeof e.metadata?.occurredAt === 'string' ? (e.metadata.occurredAt as string) : e.recordedAt);
const categoryOf = (stream: string): string => {
  try {
    return parseStreamName(stream).category;
  } catch {
    return '';
  }
};

function approvalOf(e: BundledEvent): ApprovalRef | undefined {
  const a = e.metadata?.approval as { approvalId?: unknown; initiator?: { subject?: unknown }; approvers?: { subject?: unknown }[] } | undefined;
  if (!a || typeof a.approvalId !== 'string') return undefined;
  return { approvalId: a.approvalId, initiator: String(a.initiator?.subject ?? 'unknown'), approvers: (a.approvers ?? []).map((p) => String(p?.subject ?? 'unknown')) };
}

/** `events` in global order, as bundled; `asOf` are extra dates for the state section (the window end is always one). */
export function evidenceFacts(
  events: readonly BundledEvent[],
  tenantId: string,
  window: { from: string; to: string },
  asOf: readonly string[] = [],
  configuredRegions: readonly string[] = [],
): EvidenceFacts {
  const from = Date.parse(window.from);
  const inWindow = (e: BundledEvent) => Date.parse(e.recordedAt) >= from;
  const policyNames = new Map<string, string>();
  for (const e of events) if (e.type === 'PolicyDefined') policyNames.set(String(dataOf(e).policyId), String(dataOf(e).name ?? ''));

  const policyChanges: PolicyChange[] = [];
  const keyLinkEvents: KeyLinkChange[] = [];
  const denied: DeniedFact[] = [];
  const regionDenied: RegionDeniedFact[] = [];
  const regionDeniedSuppressed: EvidenceFacts['regionDeniedSuppressed'] = [];
  const policyEnforcement: PolicyEnforcementFact[] = [];
  const confirmed = new Set<string>();
  const bundledPolicies = new Set(events.filter((e) => categoryOf(e.stream) === Categories.policy).map((e) => parseStreamName(e.stream).id));
  for (const e of events.filter(inWindow)) {
    const d = dataOf(e);
    const category = categoryOf(e.stream);
    if (category === Categories.policy || category === Categories.policyScope) {
      policyChanges.push({
        at: atOf(e),
        position: e.position,
        type: e.type,
        policyId: String(d.policyId),
        policyName: policyNames.get(String(d.policyId)),
        version: d.version === 'latest' ? 'latest' : typeof d.version === 'number' ? d.version : undefined,
        scope: typeof d.scope === 'string' ? d.scope : undefined,
        actor: actorOf(e),
        approval: approvalOf(e),
      });
    } else if (category === Categories.keyLink) {
      keyLinkEvents.push({ at: atOf(e), position: e.position, type: e.type, keyLinkId: parseStreamName(e.stream).id, actor: actorOf(e), detail: keyLinkDetail(e.type, d), approval: approvalOf(e) });
    } else if (category === Categories.workerDenied && e.type === 'WorkerAccessDenied') {
      regionDenied.push({
        at: String(d.at ?? e.recordedAt),
        region: String(d.region ?? ''),
        workerId: String(d.workerId ?? ''),
        ...(typeof d.systemId === 'string' ? { systemId: d.systemId } : {}),
        ...(typeof d.subject === 'string' ? { subject: d.subject } : {}),
        operation: String(d.operation ?? ''),
        ...(typeof d.keyLinkId === 'string' ? { keyLinkId: d.keyLinkId } : {}),
        reason: String(d.reason ?? ''),
      });
    } else if (category === Categories.workerDenied && e.type === 'WorkerAccessDeniedSuppressed') {
      regionDeniedSuppressed.push({
        region: String(d.region ?? ''),
        workerId: String(d.workerId ?? ''),
        ...(typeof d.systemId === 'string' ? { systemId: d.systemId } : {}),
        reason: String(d.reason ?? ''),
        count: Number(d.count),
        from: String(d.window?.from ?? ''),
        to: String(d.window?.to ?? ''),
      });
    } else if (category === Categories.worker && e.type === 'WorkerEnforcementReported' && Array.isArray(d.policies)) {
      for (const p of d.policies as Data[]) {
        if (!bundledPolicies.has(String(p?.policyId)) || !Number.isInteger(p?.version)) continue;
        // The first report naming a version is the worker's confirmation; later reports repeat it.
        const key = `${d.workerId}\u0000${p.policyId}\u0000${p.version}`;
        if (confirmed.has(key)) continue;
        confirmed.add(key);
        policyEnforcement.push({ policyId: String(p.policyId), policyName: policyNames.get(String(p.policyId)), version: Number(p.version), region: String(d.region ?? ''), workerId: String(d.workerId ?? ''), confirmedAt: String(d.reportedAt ?? e.recordedAt) });
      }
    } else if (category === Categories.denied && e.type === 'AccessDenied') {
      denied.push({
        at: String(d.at ?? e.recordedAt),
        position: e.position,
        method: String(d.method ?? ''),
        path: String(d.path ?? ''),
        status: Number(d.status),
        reason: String(d.reason ?? ''),
        subject: String(d.subject ?? ''),
        roles: Array.isArray(d.roles) ? d.roles.map(String) : [],
        source: String(d.source ?? ''),
      });
    }
  }
  const dates = [...new Set([window.to, ...asOf])].sort((a, b) => Date.parse(a) - Date.parse(b));
  return {
    tenantId,
    window,
    policyChanges,
    keyLinkEvents,
    revocations: revocationReceipts(events, tenantId, inWindow),
    approvals: approvals(events),
    denied,
    regionDenied,
    regionDeniedSuppressed,
    policyEnforcement,
    states: dates.map((at) => stateAt(events, tenantId, at, configuredRegions)),
  };
}

function keyLinkDetail(type: string, d: Data): string {
  switch (type) {
    case 'KeyLinked':
      return `${d.providerKind} ${d.mode} ${d.algorithm}-${d.keySize} ${d.keyReference} in ${d.providerRegion}`;
    case 'KeyLinkRevoked':
    case 'KeyLinkRestored':
    case 'KeyUnlinked':
      return `reason: ${d.reason ?? ''}${d.restoredStatus ? `; restored to ${d.restoredStatus}` : ''}${d.automatic ? ' (automatic)' : ''}`;
    case 'KeyLinkRotated':
    case 'KeyVersionRotatedAtProvider':
      return `key version ${d.previousVersion ?? '?'} -> ${d.keyVersion}, fingerprint ${d.fingerprint}`;
    case 'KeyPossessionProven':
      return `fingerprint ${d.fingerprint}${d.keyVersion ? `, version ${d.keyVersion}` : ''}`;
    case 'KeyLinkDegraded':
      return `${d.condition}: ${d.action}`;
    default:
      return '';
  }
}

/** Revoking events of the tenant in the window, each with what the regions confirmed (enforcement-<tenant>). */
function revocationReceipts(events: readonly BundledEvent[], tenantId: string, inWindow: (e: BundledEvent) => boolean): RevocationReceiptFact[] {
  const byPosition = new Map<string, RevocationReceiptFact>();
  const revokedAt = new Map<string, number>();
  for (const e of events) {
    const d = dataOf(e);
    if ((ENFORCEMENT_CAUSES as readonly string[]).includes(e.type) && d.tenantId === tenantId && inWindow(e) && categoryOf(e.stream) !== Categories.enforcement) {
      byPosition.set(e.position, {
        revocationPosition: e.position,
        cause: e.type,
        keyLinkId: typeof d.keyLinkId === 'string' ? d.keyLinkId : undefined,
        revokedAt: e.recordedAt,
        actor: actorOf(e),
        reason: typeof d.reason === 'string' ? d.reason : undefined,
        dispatchedRegions: [],
        enforced: [],
        pendingRegions: [],
      });
      revokedAt.set(e.position, Date.parse(e.recordedAt));
    }
  }
  for (const e of events) {
    if (categoryOf(e.stream) !== Categories.enforcement) continue;
    const d = dataOf(e);
    const key = String(d.revocationPosition);
    let r = byPosition.get(key);
    if (!r) {
      // A receipt for a revocation recorded before the window: still evidence, shown with what it names.
      r = { revocationPosition: key, cause: String(d.cause), keyLinkId: d.keyLinkId, dispatchedRegions: [], enforced: [], pendingRegions: [] };
      byPosition.set(key, r);
    }
    if (e.type === 'RevocationDispatched') {
      r.dispatchedAt ??= e.recordedAt;
      r.dispatchedRegions = [...new Set([...r.dispatchedRegions, ...(Array.isArray(d.regions) ? d.regions.map(String) : [])])].sort();
    } else if (e.type === 'RevocationEnforced') {
      const since = revokedAt.get(key);
      const enforcedAt = String(d.enforcedAt);
      r.enforced.push({ region: String(d.region), workerId: String(d.workerId), enforcedAt, afterMs: since === undefined ? undefined : Date.parse(enforcedAt) - since });
    }
  }
  const receipts = [...byPosition.values()];
  for (const r of receipts) {
    r.enforced.sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : Date.parse(a.enforcedAt) - Date.parse(b.enforcedAt)));
    const confirmed = new Set(r.enforced.map((x) => x.region));
    r.pendingRegions = r.dispatchedRegions.filter((region) => !confirmed.has(region));
  }
  return receipts.sort((a, b) => a.revocationPosition.length - b.revocationPosition.length || (a.revocationPosition < b.revocationPosition ? -1 : 1));
}

function approvals(events: readonly BundledEvent[]): ApprovalFact[] {
  const byId = new Map<string, ApprovalFact>();
  for (const e of events) {
    if (categoryOf(e.stream) !== Categories.approval) continue;
    const d = dataOf(e);
    const id = String(d.approvalId ?? parseStreamName(e.stream).id);
    let a = byId.get(id);
    if (!a) byId.set(id, (a = { approvalId: id, action: '', target: {}, granted: [], outcome: 'pending' }));
    switch (e.type) {
      case 'ApprovalRequested':
        a.action = String(d.action ?? '');
        a.target = Object.fromEntries(Object.entries((d.target ?? {}) as Data).map(([k, v]) => [k, String(v)]));
        a.requestedAt = atOf(e);
        a.initiator = String(d.initiator?.subject ?? actorOf(e));
        a.requiredApprovers = Number(d.requiredApprovers);
        break;
      case 'ApprovalGranted':
        a.granted.push({ approver: String(d.approver?.subject ?? actorOf(e)), at: atOf(e) });
        break;
      case 'ApprovalExecuted':
        a.outcome = 'executed';
        a.outcomeDetail = `${(d.events ?? []).join(', ')} in ${d.resultStream} at position ${d.position}`;
        break;
      case 'ApprovalFailed':
        a.outcome = 'failed';
        a.outcomeDetail = `${d.code}: ${d.reason}`;
        break;
      case 'ApprovalRejected':
        a.outcome = 'rejected';
        a.outcomeDetail = `by ${d.by?.subject ?? actorOf(e)}: ${d.reason}`;
        break;
      case 'ApprovalExpired':
        a.outcome = 'expired';
        a.outcomeDetail = `at ${d.expiresAt}`;
        break;
    }
  }
  return [...byId.values()];
}

/** Replays the bundled governance events recorded up to `asOf` with the bridge's own fold. */
function stateAt(events: readonly BundledEvent[], tenantId: string, asOf: string, configuredRegions: readonly string[]): StateAt {
  const t = Date.parse(asOf);
  const upTo = events.filter((e) => Date.parse(e.recordedAt) <= t);
  const world = foldAll(upTo.map((e) => ({ streamName: e.stream, position: BigInt(e.position), type: e.type, data: e.data })));
  const view = viewOf(world, tenantId);
  const names = new Map<string, string>();
  for (const e of upTo) if (e.type === 'PolicyDefined') names.set(String(dataOf(e).policyId), String(dataOf(e).name ?? ''));
  const policies = view ? effectivePolicies(world, tenantId).map(({ policyId, version }) => ({ policyId, name: names.get(policyId), version })) : [];

  const revocations: RevocationRecord[] = [];
  const receipts: EnforcementReceipt[] = [];
  const regions = new Set<string>();
  if (view) {
    regions.add(view.homeRegion);
    for (const s of Object.values(view.systems)) regions.add(s.region);
  }
  for (const e of events) {
    const d = dataOf(e);
    if (categoryOf(e.stream) === Categories.enforcement) {
      if (e.type === 'RevocationDispatched') {
        const named = Array.isArray(d.regions) ? d.regions.map(String) : [];
        named.forEach((r: string) => regions.add(r));
        receipts.push({ type: 'RevocationDispatched', recordedAt: e.recordedAt, revocationPosition: String(d.revocationPosition), regions: named });
      } else if (e.type === 'RevocationEnforced') {
        regions.add(String(d.region));
        receipts.push({ type: 'RevocationEnforced', revocationPosition: String(d.revocationPosition), region: String(d.region), enforcedAt: String(d.enforcedAt) });
      }
    } else if ((ENFORCEMENT_CAUSES as readonly string[]).includes(e.type) && d.tenantId === tenantId && Date.parse(e.recordedAt) <= t) {
      revocations.push({ position: e.position, cause: e.type as EnforcementCause, ...(typeof d.keyLinkId === 'string' ? { keyLinkId: d.keyLinkId } : {}), recordedAt: e.recordedAt });
    }
  }
  const regionList = configuredRegions.length ? [...new Set(configuredRegions)].sort() : [...regions].sort();
  const access = view ? decryptAccess({ world, tenantId, regions: regionList, at: new Date(t), revocations, receipts }) : undefined;
  return { asOf, position: upTo.length ? upTo[upTo.length - 1].position : '0', view, policies, access, regions: regionList, regionsSource: configuredRegions.length ? 'configured' : 'bundle' };
}
