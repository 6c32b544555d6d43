import type { DoubleImportJob, DoubleKey, DoubleStore, DoubleVersion } from './gcp-kms-double.store';

/** google.protobuf.Timestamp */
export function timestamp(date: Date | undefined) {
  if (!date) return null;
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

export function versionMessage(version: DoubleVersion) {
  return {
    name: version.name,
    state: version.state,
    protectionLevel: version.protectionLevel,
    algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION',
    createTime: timestamp(version.createTime),
    generateTime: version.material && !version.importJob ? timestamp(version.createTime) : null,
    importJob: version.importJob ?? '',
    importFailureReason: version.importFailureReason ?? '',
  };
}

export function cryptoKeyMessage(store: DoubleStore, key: DoubleKey) {
  const primary = store.primary(key);
  return {
    name: key.name,
    purpose: key.purpose,
    primary: primary ? versionMessage(primary) : null,
    createTime: timestamp(key.createTime),
    importOnly: key.importOnly,
    versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: key.protectionLevel },
  };
}

export function importJobMessage(job: DoubleImportJob) {
  return {
    name: job.name,
    importMethod: job.importMethod,
    protectionLevel: job.protectionLevel,
    createTime: timestamp(job.createTime),
    expireTime: timestamp(job.expireTime),
    state: job.state,
    publicKey: job.publicKeyPem ? { pem: job.publicKeyPem } : null,
  };
}

/** The `projects/<p>` segment of a resource name: what roles are checked against. */
export function projectOf(name: unknown): string | undefined {
  return typeof name === 'string' ? /^projects\/([^/]+)\//.exec(name)?.[1] : undefined;
}

/** An Int64Value checksum from a request (proto-loader gives `{ value: number }` or null). */
export function checksum(field: { value?: number | string } | null | undefined): number | undefined {
  return field === null || field === undefined ? undefined : Number(field.value ?? 0);
}
