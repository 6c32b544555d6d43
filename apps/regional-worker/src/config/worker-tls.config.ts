import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { WorkerTlsOptions } from '../http/worker-tls';
import { WorkerConfigError, WorkerTlsFiles } from './worker.config';

/**
 * Reads and checks the TLS files at start-up, so a wrong path, a file that is not PEM, or a key that does not
 * belong to the certificate stops the process naming the variable instead of failing on the first handshake.
 * Problems name the variable and the path, never the file's content.
 */
export function readWorkerTls(files: WorkerTlsFiles): WorkerTlsOptions {
  const cert = read('CMK_WORKER_TLS_CERT', files.certFile);
  const key = read('CMK_WORKER_TLS_KEY', files.keyFile);
  certificates('CMK_WORKER_TLS_CERT', cert);
  try {
    createPrivateKey(key);
  } catch {
    throw new WorkerConfigError('CMK_WORKER_TLS_KEY', `(${files.keyFile}) is not a readable PEM private key (encrypted keys are not supported)`);
  }
  try {
    createSecureContext({ cert, key });
  } catch {
    throw new WorkerConfigError('CMK_WORKER_TLS_KEY', `(${files.keyFile}) does not belong to the certificate in CMK_WORKER_TLS_CERT`);
  }
  if (!files.clientAuth) return { cert, key };
  const ca = read('CMK_WORKER_TLS_CLIENT_CA', files.clientAuth.caFile);
  for (const c of certificates('CMK_WORKER_TLS_CLIENT_CA', ca)) {
    if (!c.ca) throw new WorkerConfigError('CMK_WORKER_TLS_CLIENT_CA', `(${files.clientAuth.caFile}) holds a certificate that is not a CA (${c.subject.replace(/\n/g, ', ')})`);
  }
  return { cert, key, clientAuth: { ca, trustDomain: files.clientAuth.trustDomain } };
}

function read(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new WorkerConfigError(variable, `(${path}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function certificates(variable: string, pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new WorkerConfigError(variable, 'holds no PEM certificate');
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new WorkerConfigError(variable, 'holds a PEM block that is not a valid X.509 certificate');
    }
  });
}
