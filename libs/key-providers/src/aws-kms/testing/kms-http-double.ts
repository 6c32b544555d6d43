import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Server as TcpServer, Socket } from 'node:net';

/** One request as the double saw it: the KMS operation (from X-Amz-Target) and the SigV4 Authorization header. */
export interface SeenRequest {
  operation: string;
  authorization: string;
}

export interface KmsHttpDouble {
  endpoint: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A protocol-level stand-in for failures local-kms cannot produce (throttling, 5xx, refused credentials): it
 * speaks the KMS JSON protocol (`application/x-amz-json-1.1`, `__type` error bodies, as in the SDK's service
 * model) and answers every request with what `respond` returns.
 */
export async function startKmsHttpDouble(
  respond: (operation: string, body: unknown) => { status: number; body: unknown },
): Promise<KmsHttpDouble> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      requests.push({ operation, authorization: String(req.headers.authorization ?? '') });
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        body = undefined;
      }
      const answer = respond(operation, body);
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `double-${requests.length}` });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A service that accepts connections and never answers: what a hung endpoint looks like to the client. */
export async function startSilentEndpoint(): Promise<{ endpoint: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: TcpServer = createTcpServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
