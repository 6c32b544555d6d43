import { exportJWK, generateKeyPair, JWK, KeyLike, SignJWT } from 'jose';
import { IssuerRegistry, JwtVerifier, TrustedIssuerConfig } from '@cmk/auth';
import { Unauthenticated, WorkloadAuthenticator, WorkloadCredentials } from './workload-auth';

const AUD = 'openkcm-cmk-worker';
interface TestIssuer {
  name: string;
  key: KeyLike;
  jwk: JWK;
}

async function testIssuer(name: string): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { name, key: privateKey, jwk: { ...(await exportJWK(publicKey)), kid: `${name}-1`, alg: 'ES256' } };
}

function token(issuer: TestIssuer, claims: Record<string, unknown>, subject = 'svc'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: issuer.jwk.kid }).setIssuer(issuer.name).setAudience(AUD).setSubject(subject).setIssuedAt().setExpirationTime('5m').sign(issuer.key);
}

async function refusal(auth: WorkloadAuthenticator, credentials: WorkloadCredentials): Promise<string> {
  try {
    await auth.authenticate(credentials);
  } catch (error) {
    expect(error).toBeInstanceOf(Unauthenticated);
    return (error as Error).message;
  }
  throw new Error('authenticated');
}

describe('WorkloadAuthenticator', () => {
  let plain: TestIssuer;
  let mapped: TestIssuer;
  let registry: IssuerRegistry;
  const config = (i: TestIssuer, over: Partial<TrustedIssuerConfig> = {}): TrustedIssuerConfig => ({ issuer: i.name, audience: AUD, jwks: { keys: [i.jwk] }, ...over });

  beforeAll(async () => {
    [plain, mapped] = await Promise.all([testIssuer('urn:plain'), testIssuer('urn:mapped')]);
    registry = new IssuerRegistry([config(plain), config(mapped, { tenantClaim: 'org.tenant', workload: { systemClaim: 'svc' } })]);
  });
  afterAll(() => registry.close());

  it('reads the system from the default claim for an issuer without a workload mapping', async () => {
    const auth = new WorkloadAuthenticator(registry, { defaultClaims: { tenant: 'cmk_tenant', system: 'cmk_system' } });
    expect(await auth.authenticate({ authorization: `Bearer ${await token(plain, { cmk_tenant: 't1', cmk_system: 's1' })}` })).toEqual({ subject: 'svc', tenantId: 't1', systemId: 's1' });
  });

  it('uses only the issuer\'s own claims where it maps workloads: the default claim does not stand in', async () => {
    const auth = new WorkloadAuthenticator(new JwtVerifier(registry), { defaultClaims: { tenant: 'cmk_tenant', system: 'cmk_system' } });
    expect(await auth.authenticate({ authorization: `Bearer ${await token(mapped, { org: { tenant: 't2' }, svc: 's2' })}` })).toEqual({ subject: 'svc', tenantId: 't2', systemId: 's2' });
    expect(await refusal(auth, { authorization: `Bearer ${await token(mapped, { org: { tenant: 't2' }, cmk_system: 's2' })}` })).toBe('token must name the system it acts for (claim svc)');
    expect(await refusal(auth, { authorization: `Bearer ${await token(mapped, { cmk_tenant: 't2', svc: 's2' })}` })).toContain('token must name exactly one tenant');
  });

  it('without a trust domain, ignores certificates: a token is required', async () => {
    const auth = new WorkloadAuthenticator(registry, { defaultClaims: { tenant: 'cmk_tenant', system: 'cmk_system' } });
    const certificate = { verified: true, subjectAltName: 'URI:spiffe://td/tenant/t1/system/s1' };
    expect(await refusal(auth, { certificate })).toBe('a Bearer token is required');
    expect(await refusal(auth, { authorization: 'Basic abc' })).toBe('the Authorization header must be "Bearer <token>"');
  });

  describe('with mutual TLS (trust domain td)', () => {
    const auth = () => new WorkloadAuthenticator(registry, { defaultClaims: { tenant: 'cmk_tenant', system: 'cmk_system' }, trustDomain: 'td' });
    const good = { verified: true, subjectAltName: 'URI:spiffe://td/tenant/t1/system/s1' };

    it('takes a verified certificate alone as the identity', async () => {
      expect(await auth().authenticate({ certificate: good })).toEqual({ subject: 'spiffe://td/tenant/t1/system/s1', tenantId: 't1', systemId: 's1' });
    });

    it('refuses an unverified certificate with the reason, even next to a valid token', async () => {
      const valid = `Bearer ${await token(plain, { cmk_tenant: 't1', cmk_system: 's1' })}`;
      expect(await refusal(auth(), { certificate: { ...good, verified: false, verifyError: 'CERT_HAS_EXPIRED' }, authorization: valid })).toBe('the client certificate has expired (CERT_HAS_EXPIRED)');
      expect(await refusal(auth(), { certificate: { ...good, verified: false, verifyError: 'SOMETHING_ELSE' } })).toBe('the client certificate is not trusted (SOMETHING_ELSE)');
    });

    it('with both, accepts only the same tenant and system', async () => {
      const same = await token(plain, { cmk_tenant: 't1', cmk_system: 's1' });
      expect(await auth().authenticate({ certificate: good, authorization: `Bearer ${same}` })).toEqual({ subject: 'svc', tenantId: 't1', systemId: 's1' });
      for (const claims of [{ cmk_tenant: 't2', cmk_system: 's1' }, { cmk_tenant: 't1', cmk_system: 's2' }]) {
        expect(await refusal(auth(), { certificate: good, authorization: `Bearer ${await token(plain, claims)}` })).toContain('name different workloads');
      }
    });

    it('asks for either credential when none is given', async () => {
      expect(await refusal(auth(), {})).toBe('a Bearer token or a workload client certificate is required');
    });
  });
});
