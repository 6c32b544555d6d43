import { createServer as createPlainServer, RequestListener, Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** HTTPS for the worker's API; PEM text, already validated at start-up (see config/worker-tls.config.ts). */
export interface WorkerTlsOptions {
  cert: string;
  key: string;
  /** Mutual TLS: workloads may authenticate with a certificate from `ca` naming a SPIFFE ID in `trustDomain`. */
  clientAuth?: { ca: string; trustDomain: string };
}

/** A client certificate as presented: whether its chain verified against the client CA, and its SANs. */
export interface PresentedCertificate {
  verified: boolean;
  /** OpenSSL's code when not verified, e.g. CERT_HAS_EXPIRED. */
  verifyError?: string;
  subjectAltName?: string;
}

/**
 * Plain HTTP without TLS settings (embedded mode, local tests). With client authentication the certificate is
 * requested but not required at the handshake (`rejectUnauthorized: false`): health probes and token-only callers
 * need none, and a refused certificate is answered with a 401 problem that says why rather than a bare TLS alert.
 * The API routes refuse every unverified certificate themselves (see WorkloadAuthenticator).
 */
export function createWorkerServer(listener: RequestListener, tls?: WorkerTlsOptions): Server {
  if (!tls) return createPlainServer(listener);
  return createTlsServer(
    {
      cert: tls.cert,
      key: tls.key,
      minVersion: 'TLSv1.2',
      ...(tls.clientAuth ? { ca: tls.clientAuth.ca, requestCert: true, rejectUnauthorized: false } : {}),
    },
    listener,
  );
}

export function presentedCertificate(socket: Socket): PresentedCertificate | undefined {
  const tlsSocket = socket as Partial<TLSSocket>;
  if (!tlsSocket.encrypted || typeof tlsSocket.getPeerCertificate !== 'function') return undefined;
  const peer = tlsSocket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return undefined;
  return {
    verified: tlsSocket.authorized === true,
    ...(tlsSocket.authorizationError ? { verifyError: String(tlsSocket.authorizationError) } : {}),
    ...(peer.subjectaltname ? { subjectAltName: peer.subjectaltname } : {}),
  };
}
