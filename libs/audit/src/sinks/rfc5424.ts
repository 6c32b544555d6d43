/**
 * RFC 5424 syslog messages and RFC 6587 octet-counting framing (also the framing of RFC 5425 syslog over TLS).
 * Octet counting, unlike LF framing, lets a message contain any byte, so a record is never cut in two.
 */
export const NILVALUE = '-';

/** RFC 5424 6.2.1: facility 0-23; 13 = log audit, 10 = security/authorization (authpriv). */
export const FACILITY_LOG_AUDIT = 13;

export interface SdElement {
  /** SD-ID: `name@<private enterprise number>` for ids not registered with IANA. */
  id: string;
  params: Array<[string, string]>;
}

export interface SyslogMessage {
  facility: number;
  severity: number;
  timestamp: Date;
  hostname: string;
  appName: string;
  procId?: string;
  msgId?: string;
  structuredData?: SdElement[];
  msg?: string;
}

export function formatRfc5424(m: SyslogMessage): string {
  if (!Number.isInteger(m.facility) || m.facility < 0 || m.facility > 23) throw new RangeError('facility must be 0-23');
  if (!Number.isInteger(m.severity) || m.severity < 0 || m.severity > 7) throw new RangeError('severity must be 0-7');
  const pri = m.facility * 8 + m.severity;
  const header = [
    `<${pri}>1`,
    m.timestamp.toISOString(),
    headerField(m.hostname, 255, 'hostname'),
    headerField(m.appName, 48, 'app-name'),
    headerField(m.procId, 128, 'procid'),
    headerField(m.msgId, 32, 'msgid'),
    formatStructuredData(m.structuredData ?? []),
  ].join(' ');
  // No BOM before MSG: RFC 5424 allows MSG-ANY, and CEF parsers expect the message to begin with "CEF:".
  return m.msg === undefined || m.msg === '' ? header : `${header} ${m.msg}`;
}

/** RFC 6587 3.4.1: `MSG-LEN SP SYSLOG-MSG`, the length counted in octets. */
export function frameOctetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/** Header fields are printable US-ASCII without spaces; anything else is replaced so the header stays parseable. */
function headerField(value: string | undefined, max: number, name: string): string {
  if (value === undefined || value === '') return NILVALUE;
  const clean = value.replace(/[^\x21-\x7e]/g, '_');
  if (clean.length > max) throw new RangeError(`${name} is longer than ${max} characters`);
  return clean;
}

/** SD-NAME: 1-32 printable US-ASCII except `=`, space, `]` and `"`. */
const SD_NAME = /^[\x21-\x7e]{1,32}$/;
function sdName(name: string, what: string): string {
  if (!SD_NAME.test(name) || /[= \]"]/.test(name)) throw new RangeError(`invalid ${what} ${JSON.stringify(name)}`);
  return name;
}

/** PARAM-VALUE escapes `"`, `\` and `]` (RFC 5424 6.3.3). */
export function escapeSdParam(value: string): string {
  return value.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

export function formatStructuredData(elements: SdElement[]): string {
  if (elements.length === 0) return NILVALUE;
  return elements
    .map((e) => `[${sdName(e.id, 'SD-ID')}${e.params.map(([k, v]) => ` ${sdName(k, 'PARAM-NAME')}="${escapeSdParam(v)}"`).join('')}]`)
    .join('');
}

export interface ParsedSyslog {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: Record<string, Record<string, string>>;
  msg: string;
}

/** Parses one RFC 5424 message (no framing), e.g. a line an rsyslog RFC 5424 template wrote. */
export function parseRfc5424(text: string): ParsedSyslog {
  const head = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text);
  if (!head) throw new SyntaxError('not an RFC 5424 message header');
  let i = head[0].length;
  const sd: Record<string, Record<string, string>> = {};
  if (text[i] === '-') {
    i += 1;
  } else {
    while (text[i] === '[') {
      const close = findElementEnd(text, i);
      const body = text.slice(i + 1, close);
      const id = /^[^ \]]+/.exec(body)![0];
      const params: Record<string, string> = {};
      const param = /\s([^=\s]+)="((?:[^"\\]|\\.)*)"/g;
      let m: RegExpExecArray | null;
      while ((m = param.exec(body)) !== null) params[m[1]] = m[2].replace(/\\([\\"\]])/g, '$1');
      sd[id] = params;
      i = close + 1;
    }
  }
  const msg = text[i] === ' ' ? text.slice(i + 1) : text.slice(i);
  return {
    pri: Number(head[1]),
    version: Number(head[2]),
    timestamp: head[3],
    hostname: head[4],
    appName: head[5],
    procId: head[6],
    msgId: head[7],
    structuredData: sd,
    msg,
  };
}

function findElementEnd(text: string, open: number): number {
  let inValue = false;
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j];
    if (inValue && c === '\\') j++;
    else if (c === '"') inValue = !inValue;
    else if (c === ']' && !inValue) return j;
  }
  throw new SyntaxError('unterminated structured data element');
}
