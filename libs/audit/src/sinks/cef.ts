import { eventDisplayName, streamCategory, type AuditRecord } from './audit-record';

/**
 * ArcSight Common Event Format (CEF rev. 25):
 *   CEF:0|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension
 * Header values escape `\` and `|`; extension values escape `\` and `=` and write line breaks as `\n` / `\r`.
 * The standard defines no escape for a line break in a header, and a raw one would end the syslog line, so header
 * line breaks become spaces.
 */
export const CEF_VENDOR = 'OpenKCM';
export const CEF_PRODUCT = 'CMK';

export function escapeCefHeader(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r\n|[\r\n]/g, ' ');
}

export function escapeCefExtension(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r\n|\n/g, '\\n').replace(/\r/g, '\\r');
}

/** 0-3 low, 4-6 medium, 7-8 high, 9-10 very high. */
export type CefSeverityOf = (record: AuditRecord) => number;

/** Losing or disabling keys matters most to a SOC; refusals next; lifecycle changes are informational. */
export const defaultCefSeverity: CefSeverityOf = (record) => {
  const t = record.type;
  if (/(Destroyed|Deleted|Revoked|Disabled|Compromised|Tampered)$/.test(t)) return 8;
  if (/(Denied|Rejected|Refused|Failed|Violated|Expired)$/.test(t)) return 6;
  if (/(Rotated|Changed|Updated|Approved|Granted|Imported|Removed|Unlinked)$/.test(t)) return 5;
  return 3;
};

export interface CefOptions {
  productVersion: string;
  severityOf?: CefSeverityOf;
}

/**
 * Extension keys are CEF dictionary keys so SIEM parsers map them without custom rules; the custom string slots
 * carry their labels. `msg` holds the event data as compact JSON (never key material; see AuditRecord).
 */
export function formatCef(record: AuditRecord, options: CefOptions): string {
  const severity = (options.severityOf ?? defaultCefSeverity)(record);
  if (!Number.isInteger(severity) || severity < 0 || severity > 10) throw new RangeError(`CEF severity must be 0-10, got ${severity}`);
  const actor = record.metadata.actor;
  const ext: Array<[string, string | number | undefined]> = [
    ['rt', Date.parse(record.occurredAt)],
    ['externalId', record.position],
    ['act', record.type],
    ['cat', streamCategory(record.streamId)],
    ['suser', actor?.subject],
    ['cs1Label', 'streamId'],
    ['cs1', record.streamId],
    ['cn1Label', 'revision'],
    ['cn1', record.revision],
    ['cs2Label', 'commandId'],
    ['cs2', record.metadata.commandId],
    ['cs3Label', 'correlationId'],
    ['cs3', record.metadata.correlationId],
    ['cs4Label', 'tenantScope'],
    ['cs4', actor ? scopeText(actor.tenantScope) : undefined],
    ['cs5Label', 'roles'],
    ['cs5', actor?.roles.join(',')],
    ['msg', JSON.stringify(record.data)],
  ];
  const extension = ext
    .filter(([, v]) => v !== undefined && !(typeof v === 'number' && !Number.isFinite(v)))
    .map(([k, v]) => `${k}=${escapeCefExtension(String(v))}`)
    .join(' ');
  const header = [CEF_VENDOR, CEF_PRODUCT, options.productVersion, record.type, eventDisplayName(record.type), String(severity)];
  return `CEF:0|${header.map(escapeCefHeader).join('|')}|${extension}`;
}

function scopeText(scope: string[] | string | null): string {
  if (scope === null) return '*';
  return Array.isArray(scope) ? scope.join(',') : scope;
}

export interface ParsedCef {
  version: number;
  vendor: string;
  product: string;
  productVersion: string;
  eventClassId: string;
  name: string;
  severity: string;
  extension: Record<string, string>;
}

/** Parses a CEF line back (used to check what a SIEM receives; a SIEM's parser follows the same rules). */
export function parseCef(line: string): ParsedCef {
  if (!line.startsWith('CEF:')) throw new SyntaxError('not a CEF message');
  const header: string[] = [];
  let i = 4;
  let current = '';
  while (header.length < 7) {
    if (i >= line.length) throw new SyntaxError('CEF header has fewer than 8 fields');
    const c = line[i];
    if (c === '\\' && (line[i + 1] === '|' || line[i + 1] === '\\')) {
      current += line[i + 1];
      i += 2;
    } else if (c === '|') {
      header.push(current);
      current = '';
      i += 1;
    } else {
      current += c;
      i += 1;
    }
  }
  const [version, vendor, product, productVersion, eventClassId, name, severity] = header;
  return { version: Number(version), vendor, product, productVersion, eventClassId, name, severity, extension: parseExtension(line.slice(i)) };
}

/** A key starts at ` key=` where `=` is unescaped; values may contain spaces. */
function parseExtension(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const keyAt = /(?:^|\s)([A-Za-z0-9_.\[\]-]+)=/g;
  const starts: Array<{ key: string; from: number; valueFrom: number }> = [];
  let m: RegExpExecArray | null;
  while ((m = keyAt.exec(text)) !== null) {
    const eq = m.index + m[0].length - 1;
    if (isEscaped(text, eq)) continue;
    starts.push({ key: m[1], from: m.index, valueFrom: eq + 1 });
  }
  starts.forEach((s, n) => {
    const end = n + 1 < starts.length ? starts[n + 1].from : text.length;
    out[s.key] = unescapeExtension(text.slice(s.valueFrom, end));
  });
  return out;
}

function isEscaped(text: string, at: number): boolean {
  let backslashes = 0;
  for (let j = at - 1; j >= 0 && text[j] === '\\'; j--) backslashes++;
  return backslashes % 2 === 1;
}

function unescapeExtension(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}
