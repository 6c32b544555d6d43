import { InvalidKeyReferenceError } from '../key-provider.errors';

/**
 * A Cloud KMS CryptoKey resource name, `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`, taken apart.
 * References name the key, never one version: the primary version wraps, and Decrypt finds the version in the
 * ciphertext, so rotation at the provider needs no change to stored references.
 */
export interface GcpKmsKeyRef {
  name: string;
  project: string;
  /** The region (`europe-west3`), a multi-region (`eu`) or `global`: the key's location. */
  location: string;
  keyRing: string;
  cryptoKey: string;
  /** `projects/<p>/locations/<l>/keyRings/<r>`, the parent of import jobs. */
  keyRingName: string;
}

// Project ids (6-30 chars, optionally domain-scoped `example.com:proj`) or project numbers; Cloud KMS ids are
// 1-63 of [a-zA-Z0-9_-]; location ids are lower-case words joined by hyphens, digits allowed.
const PROJECT = '(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20}';
const LOCATION = '[a-z][a-z0-9-]{0,62}';
const ID = '[a-zA-Z0-9_-]{1,63}';
const KEY_NAME = new RegExp(`^projects/(${PROJECT})/locations/(${LOCATION})/keyRings/(${ID})/cryptoKeys/(${ID})$`);
const IMPORT_JOB_NAME = new RegExp(`^(projects/(?:${PROJECT})/locations/(?:${LOCATION})/keyRings/(?:${ID}))/importJobs/(${ID})$`);
const VERSION_NAME = new RegExp(`^(projects/(?:${PROJECT})/locations/(?:${LOCATION})/keyRings/(?:${ID})/cryptoKeys/(?:${ID}))/cryptoKeyVersions/([0-9]{1,20})$`);

/** Checked before any call to Cloud KMS; the message shows the reference only when it is short and printable. */
export function parseGcpKmsKeyRef(ref: string): GcpKmsKeyRef {
  const m = typeof ref === 'string' ? KEY_NAME.exec(ref) : null;
  if (!m) {
    const shown = typeof ref === 'string' && ref.length <= 300 && /^[\x21-\x7e]*$/.test(ref) ? `'${ref}'` : 'the reference given';
    const hint = typeof ref === 'string' && /\/cryptoKeyVersions\//.test(ref) ? ' (name the CryptoKey, not one of its versions)' : '';
    throw new InvalidKeyReferenceError(
      `${shown} is not a Cloud KMS key name projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>${hint}`,
      { operation: 'parse-key-ref' },
    );
  }
  const [name, project, location, keyRing, cryptoKey] = m;
  return { name, project, location, keyRing, cryptoKey, keyRingName: `projects/${project}/locations/${location}/keyRings/${keyRing}` };
}

/** The key ring an import job name belongs to, or undefined when the string is not an import job name. */
export function importJobKeyRing(importJob: string): string | undefined {
  return IMPORT_JOB_NAME.exec(importJob)?.[1];
}

/** Splits `<key name>/cryptoKeyVersions/<id>`; undefined for anything else. */
export function parseVersionName(name: string | null | undefined): { keyName: string; versionId: string } | undefined {
  const m = name ? VERSION_NAME.exec(name) : null;
  return m ? { keyName: m[1], versionId: m[2] } : undefined;
}
