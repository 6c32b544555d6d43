import { InvalidKeyReferenceError } from '../key-provider.errors';

/**
 * AWS KMS key references are ARNs, because an ARN carries everything a call needs and nothing secret: the
 * partition, the region the key lives in (the adapter sends the call to that region's endpoint), the account,
 * and the key or alias:
 *
 * - key ARN:   `arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`
 *              (multi-Region keys: `key/mrk-<32 hex>`)
 * - alias ARN: `arn:aws:kms:eu-central-1:111122223333:alias/tenant-7-l1`
 *
 * A bare key id or `alias/<name>` is refused: it names a key only relative to a region and account the
 * reference does not carry, so the same stored reference could resolve to another key elsewhere. Aliases can
 * be re-pointed at the provider; unwrap pins the alias, so a ciphertext made under the alias's earlier target
 * no longer opens through it (use the key ARN for long-lived wraps).
 */
export interface AwsKmsKeyRef {
  partition: string;
  region: string;
  account: string;
  kind: 'key' | 'alias';
  /** The key id (UUID or `mrk-...`) or the alias name without `alias/`. */
  id: string;
  /** The ARN, as sent to KMS as KeyId. */
  arn: string;
}

const ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc):kms:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):(key|alias)\/(.+)$/;
const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
// AWS alias names: letters, digits, / _ -, at most 256 characters with the `alias/` prefix; `aws/` is AWS-managed.
const ALIAS_NAME = /^[A-Za-z0-9/_-]{1,250}$/;

export function parseAwsKmsKeyRef(ref: string): AwsKmsKeyRef {
  const m = typeof ref === 'string' && ref.length <= 2048 ? ARN.exec(ref) : null;
  if (!m) {
    throw new InvalidKeyReferenceError(
      'not an AWS KMS key reference: expected arn:<partition>:kms:<region>:<account>:key/<key-id> or ...:alias/<name>',
      { keyRef: safeRef(ref) },
    );
  }
  const [, partition, region, account, kind, id] = m;
  if (kind === 'key' && !KEY_ID.test(id)) {
    throw new InvalidKeyReferenceError(`${ref}: the key id must be a UUID or mrk-<32 hex>`, { keyRef: ref });
  }
  if (kind === 'alias' && (!ALIAS_NAME.test(id) || id.startsWith('aws/'))) {
    throw new InvalidKeyReferenceError(`${ref}: not a customer alias name (letters, digits, / _ -; not aws/...)`, { keyRef: ref });
  }
  return { partition, region, account, kind: kind as 'key' | 'alias', id, arn: ref };
}

/**
 * Something that failed to parse may be anything, even a secret pasted in the wrong field: only a short,
 * plainly reference-shaped value goes into the error.
 */
function safeRef(ref: unknown): string | undefined {
  return typeof ref === 'string' && ref.startsWith('arn:') && ref.length <= 300 && /^[\x21-\x7e]*$/.test(ref) ? ref : undefined;
}
