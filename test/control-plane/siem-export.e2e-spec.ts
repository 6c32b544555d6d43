/**
 * The control plane exporting its audit log to SIEMs, configured by CMK_SIEM_SINKS: a real rsyslog (RFC 5424 over
 * TCP, CEF payload) and a local stand-in of the Splunk HTTP Event Collector. A sink that is down delays only its
 * own export: commands and the other sink carry on, and it catches up from its checkpoint when it is back.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { HecReceiver } from '@cmk/audit/sinks/testing/hec-receiver';
import { RsyslogServer } from '@cmk/audit/sinks/testing/rsyslog';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { eventually } from '../worker/support/worker-harness';
import { ALL, tenantBody } from './fixtures';

const HEC_TOKEN = randomBytes(16).toString('hex');
let rsyslog: RsyslogServer;
let hec: HecReceiver;
let cp: TestControlPlane;
let token: string;

beforeAll(async () => {
  rsyslog = await RsyslogServer.start();
  hec = new HecReceiver(HEC_TOKEN);
  await hec.start();
  process.env.CMK_TEST_HEC_TOKEN = HEC_TOKEN;
  const runner = { pollIntervalMs: 50, backoff: { initialMs: 50, maxMs: 500 } };
  cp = await startTestControlPlane({
    env: {
      CMK_SIEM_SINKS: JSON.stringify([
        { name: 'soc-syslog', type: 'syslog', host: '127.0.0.1', port: rsyslog.port, runner },
        { name: 'splunk', type: 'splunk-hec', url: `${hec.url}/services/collector/event`, token: 'env:CMK_TEST_HEC_TOKEN', runner },
      ]),
    },
  });
  token = await cp.token(ALL);
}, 120_000);

afterAll(async () => {
  await cp?.close();
  await hec?.stop();
  await rsyslog?.stop();
});

const syslogHas = async (tenantId: string) => (await rsyslog.lines()).some((l) => l.includes(tenantId) && l.includes('TenantOnboarded'));
const hecHas = (tenantId: string) => hec.events.some((e) => e.event.type === 'TenantOnboarded' && JSON.stringify(e.event).includes(tenantId));

describe('SIEM export', () => {
  it('delivers every governance event to syslog (CEF) and Splunk HEC, each from its own checkpoint', async () => {
    const tenantId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
    await eventually(() => syslogHas(tenantId), 20_000, 50);
    await eventually(() => hecHas(tenantId), 20_000, 50);
    const line = (await rsyslog.lines()).find((l) => l.includes(tenantId))!;
    expect(line).toContain('CEF:0|OpenKCM|CMK|');
    expect(JSON.stringify(hec.events)).not.toContain(HEC_TOKEN);
    const status = await cp.call('GET', '/v1/audit/siem', { token });
    expect(status.status).toBe(200);
    expect(status.body.sinks.map((s: { sink: string; state: string }) => [s.sink, s.state]).sort()).toEqual([['soc-syslog', 'ok'], ['splunk', 'ok']]);
  });

  it('a SIEM that is down delays only itself; it catches up when back', async () => {
    await hec.stop();
    const tenantId = randomUUID();
    const started = Date.now();
    expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
    expect(Date.now() - started).toBeLessThan(2_000);
    await eventually(() => syslogHas(tenantId), 20_000, 50);
    const down = await eventually(async () => {
      const s = (await cp.call('GET', '/v1/audit/siem', { token })).body.sinks.find((x: { sink: string }) => x.sink === 'splunk');
      return s.state !== 'ok' && s;
    }, 20_000, 50);
    expect(down.lastError).toBeTruthy();
    expect(hecHas(tenantId)).toBe(false);
    await hec.start(Number(new URL(hec.url).port));
    await eventually(() => hecHas(tenantId), 20_000, 50);
  });
});
