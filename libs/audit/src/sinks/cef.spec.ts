import fc from 'fast-check';
import { defaultCefSeverity, escapeCefExtension, escapeCefHeader, formatCef, parseCef } from './cef';
import { auditRecords } from './testing/audit-records';

describe('CEF', () => {
  it('escapes header values: backslash and pipe, line breaks become spaces', () => {
    expect(escapeCefHeader('a|b\\c')).toBe('a\\|b\\\\c');
    expect(escapeCefHeader('one\ntwo\r\nthree\rfour')).toBe('one two three four');
    expect(escapeCefHeader('x=y')).toBe('x=y');
  });

  it('escapes extension values: backslash, equals, line breaks', () => {
    expect(escapeCefExtension('a=b\\c')).toBe('a\\=b\\\\c');
    expect(escapeCefExtension('l1\nl2\r\nl3\rl4')).toBe('l1\\nl2\\nl3\\rl4');
    expect(escapeCefExtension('a|b')).toBe('a|b');
  });

  it('formats a governance event with the OpenKCM header and dictionary extension keys', () => {
    const [r] = auditRecords(1, 3); // position 3: KeyLinkRevoked
    const line = formatCef(r, { productVersion: '1.2.3' });
    expect(line.startsWith('CEF:0|OpenKCM|CMK|1.2.3|KeyLinkRevoked|Key link revoked|8|rt=')).toBe(true);
    expect(line).not.toMatch(/[\r\n]/);
    const parsed = parseCef(line);
    expect(parsed.extension).toEqual({
      rt: String(Date.parse(r.occurredAt)),
      externalId: '3',
      act: 'KeyLinkRevoked',
      cat: 'keylink',
      suser: 'user-0@example.com',
      cs1Label: 'streamId',
      cs1: r.streamId,
      cn1Label: 'revision',
      cn1: '0',
      cs2Label: 'commandId',
      cs2: 'cmd-3',
      cs3Label: 'correlationId',
      cs3: 'corr-3',
      cs4Label: 'tenantScope',
      cs4: 'tenant-a,tenant=b',
      cs5Label: 'roles',
      cs5: 'key-admin,auditor',
      msg: JSON.stringify(r.data),
    });
    expect(line).toContain('cs4=tenant-a,tenant\\=b');
  });

  it('round-trips hostile header and extension values through format and parse', () => {
    const text = fc.string({ unit: fc.constantFrom('a', ' ', '|', '\\', '=', '\n', '\r', 'x', 'ü', 'k=', '\\n') });
    fc.assert(
      fc.property(text, text, text, (type, subject, reason) => {
        const [r] = auditRecords(1);
        const record = { ...r, type: `T${type}`, data: { reason }, metadata: { ...r.metadata, actor: { ...r.metadata.actor!, subject } } };
        const parsed = parseCef(formatCef(record, { productVersion: 'v|1', severityOf: () => 5 }));
        expect(parsed.productVersion).toBe('v|1');
        expect(parsed.eventClassId).toBe(`T${type}`.replace(/\r\n|[\r\n]/g, ' '));
        expect(parsed.severity).toBe('5');
        expect(parsed.extension.suser).toBe(subject.replace(/\r\n/g, '\n'));
        expect(JSON.parse(parsed.extension.msg)).toEqual({ reason });
      }),
    );
  });

  it('drops absent optional fields rather than writing empty keys', () => {
    const [r] = auditRecords(1);
    const parsed = parseCef(formatCef({ ...r, metadata: {} }, { productVersion: '1' }));
    expect(parsed.extension).not.toHaveProperty('suser');
    expect(parsed.extension).not.toHaveProperty('cs2');
    expect(parsed.extension).not.toHaveProperty('cs4');
  });

  it('rates destructive events higher than lifecycle events, and refuses a severity outside 0-10', () => {
    const [r] = auditRecords(1);
    expect(defaultCefSeverity({ ...r, type: 'KeyLinkRevoked' })).toBe(8);
    expect(defaultCefSeverity({ ...r, type: 'UnwrapDenied' })).toBe(6);
    expect(defaultCefSeverity({ ...r, type: 'KeyLinkRotated' })).toBe(5);
    expect(defaultCefSeverity({ ...r, type: 'KeyLinkCreated' })).toBe(3);
    expect(() => formatCef(r, { productVersion: '1', severityOf: () => 11 })).toThrow(RangeError);
  });

  it('refuses text that is not CEF', () => {
    expect(() => parseCef('hello')).toThrow(SyntaxError);
    expect(() => parseCef('CEF:0|a|b')).toThrow(/fewer than 8/);
  });
});
