import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { runCli } from './program';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A canned control plane: routes map "METHOD path" to [status, body]. */
async function fakeApi(routes: Record<string, (req: Recorded) => [number, unknown]>) {
  const seen: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(r);
      const route = routes[`${req.method} ${req.url!.split('?')[0]}`];
      const [status, payload] = route ? route(r) : [404, { type: 'https://openkcm.dev/problems/not-found', title: 'Not Found', status: 404, detail: 'no route' }];
      res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function cli(args: string[], url: string, tty = false) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s), isTTY: tty },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CMK_URL: url, CMK_TOKEN: 'tok-123' },
    fetch: globalThis.fetch,
  }, { sleep: async () => undefined });
  return { code, stdout, stderr };
}

describe('cmk CLI', () => {
  it('sends the bearer token and an Idempotency-Key on writes, and prints a human summary or JSON', async () => {
    const api = await fakeApi({ 'POST /v1/tenants': () => [201, { id: 't1', revision: 0, position: '5', events: ['TenantOnboarded'] }] });
    try {
      const args = ['tenants', 'onboard', '--name', 'ACME', '--jurisdiction', 'EU', '--region', 'eu-central-1', '--classification', 'internal', '--contact', 'Ada Admin <ada@acme.example>'];
      const human = await cli(args, api.url);
      expect(human).toMatchObject({ code: 0, stdout: 'tenant t1: TenantOnboarded (revision 0, position 5)\n' });
      const json = await cli(['--json', ...args], api.url);
      expect(JSON.parse(json.stdout)).toEqual({ id: 't1', revision: 0, position: '5', events: ['TenantOnboarded'] });
      expect(api.seen[0].headers.authorization).toBe('Bearer tok-123');
      expect(api.seen[0].headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
      expect(api.seen[0].headers['idempotency-key']).not.toBe(api.seen[1].headers['idempotency-key']);
      expect(JSON.parse(api.seen[0].body)).toMatchObject({ displayName: 'ACME', contacts: [{ name: 'Ada Admin', email: 'ada@acme.example' }] });
    } finally {
      await api.close();
    }
  });

  it('follows cursors with --all and renders a table', async () => {
    const api = await fakeApi({
      'GET /v1/tenants': (r) =>
        r.url.includes('cursor=c2')
          ? [200, { items: [{ tenantId: 't3', displayName: 'C', status: 'active' }], nextCursor: null }]
          : [200, { items: [{ tenantId: 't1', displayName: 'A', status: 'active' }, { tenantId: 't2', displayName: 'B', status: 'suspended' }], nextCursor: 'c2' }],
    });
    try {
      const all = await cli(['--json', 'tenants', 'list', '--all'], api.url);
      expect(JSON.parse(all.stdout).items.map((t: { tenantId: string }) => t.tenantId)).toEqual(['t1', 't2', 't3']);
      const one = await cli(['tenants', 'list'], api.url);
      expect(one.stdout).toContain('t1');
      expect(one.stdout).toContain('suspended');
      expect(one.stdout).not.toContain('t3');
    } finally {
      await api.close();
    }
  });

  it.each([
    [400, 2],
    [401, 6],
    [403, 6],
    [404, 3],
    [409, 4],
    [412, 4],
    [422, 5],
    [503, 7],
  ])('maps HTTP %i to exit code %i with a one-line error', async (status, exit) => {
    const api = await fakeApi({ 'POST /v1/key-links/k1/revoke': () => [status, { title: 'Some title', detail: 'some detail', status }] });
    try {
      const r = await cli(['links', 'revoke', 'k1', '--reason', 'x'], api.url);
      expect(r.code).toBe(exit);
      expect(r.stderr).toBe('error: Some title: some detail\n');
    } finally {
      await api.close();
    }
  });

  it('renders field errors and violated rules', async () => {
    const api = await fakeApi({
      'POST /v1/tenants/t1/key-links': () => [422, { title: 'Refused by policy', violations: [{ rule: 'key-strength.minimum-bits', message: 'RSA-2048 is below 3072' }] }],
      'POST /v1/tenants': () => [400, { title: 'Request validation failed', errors: [{ field: 'homeRegion', message: 'must be a region' }] }],
    });
    try {
      const link = await cli(['links', 'link', '--tenant', 't1', '--provider', 'pkcs11', '--mode', 'HYOK', '--key-ref', 'r', '--algorithm', 'RSA', '--size', '2048', '--region', 'eu-central-1'], api.url);
      expect(link).toMatchObject({ code: 5, stderr: 'error: Refused by policy\n  key-strength.minimum-bits: RSA-2048 is below 3072\n' });
      const bad = await cli(['tenants', 'onboard', '--name', 'A', '--jurisdiction', 'EU', '--region', 'X', '--classification', 'internal'], api.url);
      expect(bad.stderr).toContain('  homeRegion: must be a region');
    } finally {
      await api.close();
    }
  });

  it('refuses bad flags locally with exit code 2 and no request', async () => {
    const api = await fakeApi({});
    try {
      expect((await cli(['links', 'link', '--tenant', 't', '--provider', 'pkcs11', '--mode', 'HYOK', '--key-ref', 'r', '--algorithm', 'AES', '--size', 'big', '--region', 'x'], api.url)).code).toBe(2);
      expect((await cli(['audit', 'replay', '--tenant', 't', '--as-of', 'yesterday-ish'], api.url)).stderr).toContain('--as-of must be a date/time');
      expect((await cli(['tenants', 'onboard', '--name', 'x'], api.url)).code).toBe(2);
      expect((await cli(['nonsense'], api.url)).code).toBe(2);
      expect(api.seen).toHaveLength(0);
    } finally {
      await api.close();
    }
  });

  it('exits 7 when the control plane cannot be reached', async () => {
    const r = await cli(['tenants', 'list'], 'http://127.0.0.1:1');
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: cannot reach http:\/\/127.0.0.1:1/);
  });

  it('polls a rebuild until done, with progress lines when not on a terminal', async () => {
    let polls = 0;
    const api = await fakeApi({
      'POST /v1/admin/projections/tenants/rebuild': () => [202, { rebuildId: 'r1' }],
      'GET /v1/admin/projections': () => {
        polls++;
        return [200, { items: [{ name: 'tenants', status: 'rebuilding', position: '0', headPosition: '10', lag: 0, rebuild: { rebuildId: 'r1', processed: polls * 4, total: 10, done: polls >= 3 } }] }];
      },
    });
    try {
      const r = await cli(['projections', 'rebuild', 'tenants'], api.url);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['rebuild tenants: 4/10 events', 'rebuild tenants: 8/10 events', 'rebuild tenants: 12/10 events', 'rebuild tenants done: 10 events']);
    } finally {
      await api.close();
    }
  });
});
