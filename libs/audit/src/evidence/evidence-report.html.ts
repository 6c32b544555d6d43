import type { EvidenceManifest } from './evidence-bundle';
import type { ApprovalRef, EvidenceFacts, StateAt } from './evidence-facts';

/**
 * report.html: one self-contained page (inline CSS with a print stylesheet, no scripts, no external assets) that
 * prints to PDF. Every value comes from recorded events, which carry whatever callers typed (policy names, reasons,
 * subjects of refused tokens), so every value is escaped; nothing is trusted as markup.
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

type ReportHeader = Pick<EvidenceManifest, 'tenantId' | 'window' | 'generatedAt' | 'generatedBy' | 'keys' | 'anchorTreeSize'> & { events: number };

const CSS = `
body{font:13px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#111;margin:2em auto;max-width:1100px;padding:0 1em}
h1{font-size:22px;margin-bottom:.2em}h2{font-size:17px;border-bottom:2px solid #333;padding-bottom:.2em;margin-top:2em}h3{font-size:14px;margin-bottom:.3em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}code,.mono{font-family:Menlo,Consolas,monospace;font-size:11px;word-break:break-all}.muted{color:#666}.none{color:#666;font-style:italic}
.bad{color:#a00;font-weight:bold}.ok{color:#060}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}
@media print{body{margin:0;max-width:none;font-size:10px}h2{break-before:page}h2:first-of-type{break-before:auto}tr,table{break-inside:avoid}a{color:inherit}}
`;

const td = (v: unknown, cls?: string) => `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(v)}</td>`;
const table = (head: string[], rows: string[], empty: string) =>
  rows.length === 0 ? `<p class="none">${escapeHtml(empty)}</p>` : `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
const approvalCell = (a: ApprovalRef | undefined) =>
  a ? td(`${a.approvalId}: initiated by ${a.initiator}; approved by ${a.approvers.join(', ') || 'nobody'}`) : td('no approval (ran directly)', 'muted');

export function renderEvidenceReport(header: ReportHeader, facts: EvidenceFacts): string {
  const sections = [policySection(facts), keyLinkSection(facts), approvalSection(facts), deniedSection(facts), ...facts.states.map((s) => stateSection(s))];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Audit evidence: tenant ${escapeHtml(header.tenantId)}</title>
<style>${CSS}</style></head><body>
<h1>Audit evidence for tenant <span class="mono">${escapeHtml(header.tenantId)}</span></h1>
<dl>
<dt>Window</dt><dd>${escapeHtml(header.window.from)} to ${escapeHtml(header.window.to)}</dd>
<dt>Generated</dt><dd>${escapeHtml(header.generatedAt)} by ${escapeHtml(header.generatedBy)}</dd>
<dt>Events</dt><dd>${escapeHtml(header.events)}, each with an RFC 9162 inclusion proof against the signed checkpoint of tree size ${escapeHtml(header.anchorTreeSize)}</dd>
<dt>Audit signing key</dt><dd>${header.keys.map((k) => `<code>${escapeHtml(k.keyId)}</code> (${escapeHtml(k.alg)})`).join('<br>')}</dd>
</dl>
<p>This report is derived from <code>events.ndjson</code> in the same bundle. It proves nothing by itself: run
<code>cmk audit verify --bundle &lt;this directory&gt; --public-key &lt;the key you trust&gt;</code>, which checks every event's hash
chain, every inclusion proof, every checkpoint signature and consistency proof and every file's SHA-256, with no
access to the service.</p>
${sections.join('\n')}
</body></html>
`;
}

function policySection(f: EvidenceFacts): string {
  const rows = f.policyChanges.map(
    (c) =>
      `<tr>${td(c.at)}${td(c.type)}${td(`${c.policyName ? `${c.policyName} ` : ''}(${c.policyId})`)}${td(c.version ?? '')}${td(c.scope ?? '')}${td(c.actor)}${approvalCell(c.approval)}</tr>`,
  );
  const enforced = f.policyEnforcement.map(
    (p) => `<tr>${td(`${p.policyName ? `${p.policyName} ` : ''}(${p.policyId})`)}${td(p.version)}${td(p.region)}${td(p.workerId)}${td(p.confirmedAt)}</tr>`,
  );
  return `<h2>1. Policy changes</h2><p class="muted">Who changed which policy when, and who approved it (the approval that executed the change).</p>
${table(['When', 'Change', 'Policy', 'Version', 'Scope', 'Recorded as', 'Approval'], rows, 'No policy change in the window.')}
<h3>Enforcement of policy versions per region</h3><p class="muted">When each regional worker first reported enforcing a version of these policies (WorkerEnforcementReported).</p>
${table(['Policy', 'Version', 'Region', 'Worker', 'Confirmed at'], enforced, 'No worker confirmation in the window.')}`;
}

function keyLinkSection(f: EvidenceFacts): string {
  const rows = f.keyLinkEvents.map((e) => `<tr>${td(e.at)}${td(e.type)}<td class="mono">${escapeHtml(e.keyLinkId)}</td>${td(e.detail)}${td(e.actor)}${approvalCell(e.approval)}</tr>`);
  const receipts = f.revocations.map((r) => {
    const enforced = r.enforced.map((x) => `${x.region}: ${x.enforcedAt} by ${x.workerId}${x.afterMs === undefined ? '' : ` (${x.afterMs} ms after the revocation)`}`);
    return `<tr>${td(`${r.cause} at position ${r.revocationPosition}`)}<td class="mono">${escapeHtml(r.keyLinkId ?? 'whole tenant')}</td>${td(r.revokedAt ?? 'before the window')}${td(r.actor ?? '')}${td(r.reason ?? '')}${td(r.dispatchedRegions.join(', ') || 'not dispatched')}<td>${enforced.map(escapeHtml).join('<br>') || '<span class="bad">none</span>'}</td>${td(r.pendingRegions.join(', ') || 'none', r.pendingRegions.length ? 'bad' : 'ok')}</tr>`;
  });
  return `<h2>2. Key links, rotations and revocations</h2>
${table(['When', 'Event', 'Key link', 'Detail', 'Recorded as', 'Approval'], rows, 'No key link event in the window.')}
<h3>Revocation enforcement receipts per region</h3><p class="muted">Regions the mesh bridge dispatched the revocation to, and each region's confirmation that it denies.</p>
${table(['Revocation', 'Key link', 'Revoked at', 'By', 'Reason', 'Dispatched to', 'Enforced', 'Not confirmed'], receipts, 'No revocation in the window.')}`;
}

function approvalSection(f: EvidenceFacts): string {
  const rows = f.approvals.map(
    (a) =>
      `<tr><td class="mono">${escapeHtml(a.approvalId)}</td>${td(a.action)}${td(Object.entries(a.target).map(([k, v]) => `${k}=${v}`).join(', '))}${td(a.requestedAt ?? '')}${td(a.initiator ?? '')}${td(a.requiredApprovers ?? '')}<td>${a.granted.map((g) => escapeHtml(`${g.approver} at ${g.at}`)).join('<br>') || '<span class="none">none</span>'}</td>${td(`${a.outcome}${a.outcomeDetail ? `: ${a.outcomeDetail}` : ''}`)}</tr>`,
  );
  return `<h2>3. Approvals</h2>${table(['Approval', 'Action', 'Target', 'Requested', 'Initiator', 'Approvers required', 'Approved by', 'Outcome'], rows, 'No approval concerning the tenant in the window.')}`;
}

function deniedSection(f: EvidenceFacts): string {
  const rows = f.denied.map((d) => `<tr>${td(d.at)}${td(d.subject)}${td(d.roles.join(', '))}${td(`${d.method} ${d.path}`)}${td(d.status)}${td(d.reason)}${td(d.source)}</tr>`);
  const region = f.regionDenied.map((d) => `<tr>${td(d.at)}${td(d.region)}${td(d.workerId)}${td(d.systemId ?? '')}${td(d.subject ?? '')}${td(d.operation)}<td class="mono">${escapeHtml(d.keyLinkId ?? '')}</td>${td(d.reason)}</tr>`);
  const suppressed = f.regionDeniedSuppressed.map((d) => `<tr>${td(`${d.from} to ${d.to}`)}${td(d.region)}${td(d.workerId)}${td(d.systemId ?? '')}${td(d.reason)}${td(d.count)}</tr>`);
  return `<h2>4. Denied attempts</h2><p class="muted">Requests refused because they named this tenant without access to it.</p>
${table(['When', 'Subject', 'Roles', 'Request', 'Status', 'Reason', 'Source'], rows, 'No denied attempt in the window.')}
<h3>Refused by regional workers</h3><p class="muted">Data-key requests of this tenant's workloads that a regional worker refused, with the worker's reason.</p>
${table(['When', 'Region', 'Worker', 'System', 'Subject', 'Operation', 'Key link', 'Reason'], region, 'No request refused by a worker in the window.')}
${suppressed.length ? `<h3>Worker refusals beyond the per-window detail limit (counted)</h3>${table(['Window', 'Region', 'Worker', 'System', 'Reason', 'Count'], suppressed, '')}` : ''}`;
}

function stateSection(s: StateAt): string {
  const v = s.view;
  if (!v) return `<h2>5. State as of ${escapeHtml(s.asOf)}</h2><p class="none">The tenant did not exist at that time.</p>`;
  const systems = Object.values(v.systems).map((x) => `<tr><td class="mono">${escapeHtml(x.systemId)}</td>${td(x.region)}<td class="mono">${escapeHtml(x.keyLinkId)}</td></tr>`);
  const links = Object.values(v.keyLinks).map((l) => `<tr><td class="mono">${escapeHtml(l.keyLinkId)}</td>${td(l.status)}${td(`${l.providerKind} ${l.mode}`)}<td class="mono">${escapeHtml(l.keyReference)}</td>${td(l.providerRegion)}</tr>`);
  const policies = s.policies.map((p) => `<tr>${td(p.name ?? '')}<td class="mono">${escapeHtml(p.policyId)}</td>${td(p.version)}</tr>`);
  return `<h2>5. State as of ${escapeHtml(s.asOf)}</h2>
<p class="muted">Replayed from the bundled events up to position ${escapeHtml(s.position)} with the mesh bridge's own fold.</p>
<dl><dt>Status</dt><dd>${escapeHtml(v.status)}</dd><dt>Jurisdiction</dt><dd>${escapeHtml(v.jurisdiction)}</dd><dt>Home region</dt><dd>${escapeHtml(v.homeRegion)}</dd>
<dt>Allowed regions</dt><dd>${v.allowedRegions === null ? 'any (no geofence applies)' : escapeHtml(v.allowedRegions.join(', ') || 'none')}</dd></dl>
<h3>Systems</h3>${table(['System', 'Region', 'Key link'], systems, 'No registered system.')}
<h3>Key links</h3>${table(['Key link', 'Status', 'Provider', 'Key reference', 'Provider region'], links, 'No key link.')}
<h3>Policies in force</h3>${table(['Name', 'Policy', 'Version'], policies, 'No policy in force.')}
${accessSection(s)}`;
}

function accessSection(s: StateAt): string {
  const a = s.access;
  if (!a) return '';
  const rows = a.systems.map(
    (x) =>
      `<tr><td class="mono">${escapeHtml(x.systemId)}</td><td class="mono">${escapeHtml(x.keyLinkId)}</td>${td(x.regions.join(', ') || 'nowhere', x.regions.length ? 'ok' : '')}${td(x.denied.map((d) => `${d.region}: ${d.reason}`).join('; '))}</tr>`,
  );
  const pending = a.pendingRevocations.map(
    (p) => `<tr>${td(`${p.cause} at position ${p.revocationPosition}`)}${td(p.revokedAt)}${td(p.regions.map((r) => `${r.region}${r.enforcedAt ? ` (enforced ${r.enforcedAt})` : ' (no receipt)'}`).join(', '), 'bad')}</tr>`,
  );
  return `<h3>Who could decrypt</h3>
<p>${a.couldDecrypt ? 'Some systems could decrypt.' : `Nobody could decrypt${a.reasons.length ? ` (${escapeHtml(a.reasons.join(', '))})` : ''}.`} Judged per region as a regional worker decides, over ${s.regionsSource === 'configured' ? "the deployment's configured regions" : 'the regions this bundle names (no CMK_REGIONS was configured)'}: ${escapeHtml(s.regions.join(', ') || 'none')}.</p>
${table(['System', 'Key link', 'Could decrypt in', 'Refused in'], rows, 'No registered system.')}
${pending.length ? `<h3>Revocations not yet enforced everywhere at that time</h3>${table(['Revocation', 'Revoked at', 'Regions still able to serve'], pending, '')}` : ''}`;
}
