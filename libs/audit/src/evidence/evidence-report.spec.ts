import { BundleFiles } from './evidence-bundle';
import { escapeHtml } from './evidence-report.html';
import { APPROVAL, APPROVAL2, fixtureBundle, HOSTILE_NAME, HOSTILE_SUBJECT, LINK, POLICY, SYSTEM } from './testing/evidence-fixture';

/** Text content of the page, tags dropped and entities decoded, so facts can be looked for as a reader sees them. */
const text = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('evidence report.html', () => {
  let html: string;
  let page: string;

  beforeAll(async () => {
    // Before the revocation (recorded at 00:00:19) and after the policy revision (00:00:17).
    const { bundle } = await fixtureBundle(undefined, [new Date('2025-01-01T00:00:18.500Z')]);
    html = bundle.files[BundleFiles.report];
    page = text(html);
  });

  it('answers who changed which policy when, at which version, and who approved it', () => {
    expect(page).toMatch(new RegExp(`PolicyDefined .*${POLICY}.* 1 .*alice.*${APPROVAL}: initiated by alice; approved by bob, carol`));
    expect(page).toMatch(new RegExp(`PolicyRevised .*${POLICY}.* 2 .*${APPROVAL2}: initiated by alice; approved by bob, dave`));
    expect(page).toContain('PolicyAssigned');
  });

  it('lists key link events and each region’s enforcement receipt with its latency', () => {
    expect(page).toMatch(new RegExp(`KeyLinked ${LINK} pkcs11 HYOK AES-256`));
    expect(page).toContain('KeyLinkActivated');
    expect(page).toContain('reason: suspected compromise');
    expect(page).toContain('eu-central-1: 2025-01-01T00:00:19.012Z by w-eu-1 (12 ms after the revocation)');
    expect(page).toContain('eu-west-1: 2025-01-01T00:00:19.030Z by w-euw-1 (30 ms after the revocation)');
  });

  it('lists approvals with initiator, approvers and outcome, and the denied attempts naming the tenant', () => {
    expect(page).toMatch(new RegExp(`${APPROVAL} policy.define policyId=${POLICY} .* alice 2 bob at .* carol at .* executed: PolicyDefined in policy-${POLICY}`));
    expect(page).toContain('POST /v1/key-links/:keyLinkId/restore 403 tenant-scope');
    expect(page).not.toMatch(/\beve\b/);
  });

  it("shows each region's confirmation of a policy version, and the requests regional workers refused, the tenant's only", () => {
    expect(page).toMatch(new RegExp(`Enforcement of policy versions per region .*\\(${POLICY}\\) 2 eu-central-1 w-eu-1 2025-01-01T00:00:17.250Z`));
    expect(page).toMatch(new RegExp(`2025-01-01T00:00:19.500Z eu-central-1 w-eu-1 ${SYSTEM} svc-billing unwrap ${LINK} key-link-revoked`));
    expect(page).toMatch(/eu-central-1 w-eu-1 \S+ key-link-revoked 37/);
    expect(page).not.toContain('svc-eve');
    expect(page).not.toMatch(/ 5 eu-central-1 w-eu-1/);
  });

  it('replays the state at the window end and at an earlier date, with who could decrypt where', () => {
    const [earlier, end] = page.split('5. State as of ').slice(1);
    expect(earlier).toMatch(/^2025-01-01T00:00:18.500Z/);
    expect(earlier).toContain(`Allowed regions eu-central-1`);
    expect(earlier).toMatch(new RegExp(`${SYSTEM} ${LINK} eu-central-1 eu-west-1: region-not-allowed`));
    expect(earlier).toContain(`${HOSTILE_NAME} ${POLICY} 2`);
    expect(end).toMatch(/^2025-01-01T01:00:00.000Z/);
    expect(end).toMatch(new RegExp(`${LINK} revoked pkcs11 HYOK`));
    expect(end).toContain('Nobody could decrypt');
    expect(end).toContain('nowhere eu-central-1: key-link-revoked; eu-west-1: region-not-allowed');
  });

  it("judges who could decrypt over the deployment's configured regions when it has them", async () => {
    const { bundle } = await fixtureBundle(undefined, [new Date('2025-01-01T00:00:18.500Z')], ['us-east-1', 'eu-west-1', 'eu-central-1']);
    const configured = text(bundle.files[BundleFiles.report]);
    expect(configured).toContain("over the deployment's configured regions: eu-central-1, eu-west-1, us-east-1");
    expect(configured).toContain('eu-west-1: region-not-allowed; us-east-1: region-not-allowed');
    expect(JSON.parse(bundle.files[BundleFiles.manifest]).regions).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1']);
    expect(page).toContain('the regions this bundle names (no CMK_REGIONS was configured): eu-central-1, eu-west-1');
  });

  it('escapes every hostile value and stays self-contained: no script, no external asset', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<[^>]*\b(src|href)\s*=/i);
    expect(html).toContain(escapeHtml(HOSTILE_NAME));
    expect(html).toContain(escapeHtml(HOSTILE_SUBJECT));
    expect(page).toContain(HOSTILE_SUBJECT);
    expect(html).toMatch(/@media print/);
    expect(escapeHtml(`<a href="x">'&\``)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#96;');
  });
});
