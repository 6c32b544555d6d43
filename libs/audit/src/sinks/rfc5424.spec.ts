import fc from 'fast-check';
import { escapeSdParam, formatRfc5424, formatStructuredData, frameOctetCounted, parseRfc5424 } from './rfc5424';

const base = { facility: 13, severity: 5, timestamp: new Date('2025-03-01T10:00:00.123Z'), hostname: 'cmk-1', appName: 'openkcm-cmk' };

describe('RFC 5424 / RFC 6587', () => {
  it('formats the header with PRI = facility * 8 + severity, version 1, ISO timestamp and NILVALUEs', () => {
    expect(formatRfc5424({ ...base, msg: 'hello' })).toBe('<109>1 2025-03-01T10:00:00.123Z cmk-1 openkcm-cmk - - - hello');
  });

  it('writes structured data with escaped parameter values', () => {
    const sd = formatStructuredData([{ id: 'openkcm@32473', params: [['position', '42'], ['q', 'a"b\\c]d']] }]);
    expect(sd).toBe('[openkcm@32473 position="42" q="a\\"b\\\\c\\]d"]');
    expect(escapeSdParam('plain')).toBe('plain');
  });

  it('refuses invalid SD names, facilities and severities', () => {
    expect(() => formatStructuredData([{ id: 'bad id', params: [] }])).toThrow(RangeError);
    expect(() => formatStructuredData([{ id: 'ok', params: [['a=b', 'x']] }])).toThrow(RangeError);
    expect(() => formatRfc5424({ ...base, facility: 24 })).toThrow(RangeError);
    expect(() => formatRfc5424({ ...base, severity: 8 })).toThrow(RangeError);
    expect(() => formatRfc5424({ ...base, msgId: 'x'.repeat(33) })).toThrow(/msgid/);
  });

  it('keeps header fields printable ASCII without spaces', () => {
    expect(formatRfc5424({ ...base, hostname: 'my host\n' })).toContain(' my_host_ ');
  });

  it('frames with the length in octets, not characters', () => {
    const framed = frameOctetCounted('ü€x');
    expect(framed.toString('utf8')).toBe('6 ü€x');
  });

  it('parses back what it formats, whatever the parameter values', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (value, msg) => {
        const text = formatRfc5424({ ...base, msgId: 'KeyLinkRevoked', structuredData: [{ id: 'openkcm@32473', params: [['v', value], ['n', '1']] }], msg: `CEF:${msg}` });
        const parsed = parseRfc5424(text);
        expect(parsed).toMatchObject({ pri: 109, version: 1, hostname: 'cmk-1', appName: 'openkcm-cmk', procId: '-', msgId: 'KeyLinkRevoked', msg: `CEF:${msg}` });
        expect(parsed.structuredData['openkcm@32473']).toEqual({ v: value, n: '1' });
      }),
    );
  });
});
