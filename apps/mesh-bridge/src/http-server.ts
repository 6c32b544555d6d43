import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MeshBridge } from './mesh-bridge';

/**
 * The standalone bridge's probes and metrics: /health/live (the process works), /health/ready (caught up,
 * store and mesh answering), /metrics (Prometheus text). Nothing else is served.
 */
export async function serveBridgeHttp(bridge: MeshBridge, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/health/live' || path === '/health/ready') {
      const health = bridge.health();
      const ok = path === '/health/live' ? health.live : health.ready;
      return send(ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ok' : 'unavailable', ...health }));
    }
    if (path === '/metrics') {
      bridge.metricsText().then(
        (text) => send(200, bridge.metrics.registry.contentType, text),
        (error: Error) => send(500, 'text/plain', `metrics failed: ${error.message}\n`),
      );
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
