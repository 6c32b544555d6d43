import { InvalidKeyReferenceError } from '../key-provider.errors';
import { formatPkcs11KeyRef, parsePkcs11KeyRef } from './pkcs11-uri';

describe('PKCS#11 key references (RFC 7512 URIs)', () => {
  it('reads token and object labels, percent-decoded', () => {
    expect(parsePkcs11KeyRef('pkcs11:token=cmk%20prod;object=tenant-l1')).toEqual({ token: 'cmk prod', object: 'tenant-l1' });
  });

  it('reads an id as plain hex or percent-encoded bytes, and a type', () => {
    expect(parsePkcs11KeyRef('pkcs11:token=t;id=01a2ff').id).toEqual(Buffer.from([1, 0xa2, 0xff]));
    expect(parsePkcs11KeyRef('pkcs11:token=t;id=%01%a2%FF;type=secret-key')).toEqual({
      token: 't',
      id: Buffer.from([1, 0xa2, 0xff]),
      type: 'secret-key',
    });
  });

  it('formats canonically and round-trips', () => {
    const ref = { token: 'a;b', object: 'key/1 é', id: Buffer.from([0, 255]), type: 'private' as const };
    const text = formatPkcs11KeyRef(ref);
    expect(text).toBe('pkcs11:token=a%3Bb;object=key%2F1%20%C3%A9;id=%00%ff;type=private');
    expect(parsePkcs11KeyRef(text)).toEqual(ref);
  });

  it.each([
    ['not a pkcs11 URI', 'arn:aws:kms:eu-central-1:1:key/x'],
    ['no key named', 'pkcs11:token=t'],
    ['unknown attribute', 'pkcs11:token=t;object=k;colour=red'],
    ['repeated attribute', 'pkcs11:object=a;object=b'],
    ['bad hex id', 'pkcs11:id=abc'],
    ['bad type', 'pkcs11:object=k;type=cert'],
    ['token label over 32 bytes', `pkcs11:token=${'x'.repeat(33)};object=k`],
    ['empty', ''],
  ])('refuses %s', (_why, ref) => {
    expect(() => parsePkcs11KeyRef(ref)).toThrow(InvalidKeyReferenceError);
  });

  it('refuses references carrying a PIN without echoing it', () => {
    const pin = 'S3cr3t-PIN-4711';
    for (const ref of [`pkcs11:token=t;object=k?pin-value=${pin}`, `pkcs11:object=k?pin-source=file:/x&pin-value=${pin}`]) {
      let error: unknown;
      try {
        parsePkcs11KeyRef(ref);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidKeyReferenceError);
      expect(String((error as Error).message)).toMatch(/must not carry PINs/);
      expect(JSON.stringify(error) + (error as Error).message).not.toContain(pin);
    }
  });
});
