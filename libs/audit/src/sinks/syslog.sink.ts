import { hostname as osHostname } from 'node:os';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { AuditRecord } from './audit-record';
import { defaultCefSeverity, formatCef, type CefSeverityOf } from './cef';
import { FACILITY_LOG_AUDIT, formatRfc5424, frameOctetCounted } from './rfc5424';
import type { SiemSink } from './siem-sink.port';
import { SinkDeliveryError } from './sink.errors';
import { silentSinkLogger, type SinkLogger } from './sink.logger';

export interface SyslogTlsOptions {
  /** PEM CA bundle that signed the receiver's certificate; the system store when omitted. */
  ca?: string | Buffer;
  /** Name checked against the receiver's certificate; defaults to host. */
  servername?: string;
  /** Client certificate and key (PEM) when the receiver requires mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/**
 * How a batch counts as delivered. Plain syslog has no acknowledgement, and bytes a dead receiver had not read
 * yet would be lost silently if "written to the socket" counted as delivered:
 * - `receiver-close` (default): one connection per batch; after the last frame the sink half-closes and waits for
 *   the receiver to close its side, which a receiver does only after reading every byte before our FIN. A
 *   receiver killed before reading everything resets the connection instead, and the batch is resent.
 * - `none`: one long-lived connection, a batch counts as delivered once written; faster, but a receiver crash
 *   can lose what was in flight. Only for receivers that are not the audit system of record.
 */
export type SyslogConfirm = 'receiver-close' | 'none';

export interface SyslogSinkOptions {
  name: string;
  host: string;
  port: number;
  /** TLS settings, or a loader called on every connection so a renewed client key or CA is picked up. */
  tls?: SyslogTlsOptions | (() => Promise<SyslogTlsOptions>);
  confirm?: SyslogConfirm;
  /** HOSTNAME field of the messages; the machine's host name by default. */
  hostname?: string;
  appName?: string;
  facility?: number;
  /** The version in the CEF header. */
  productVersion: string;
  /** Private enterprise number of the structured data id `openkcm@<pen>`; 32473 is the RFC 5612 example number. */
  enterpriseNumber?: number;
  severityOf?: CefSeverityOf;
  connectTimeoutMs?: number;
  /** How long a batch may take from connect to the receiver's close. */
  deliveryTimeoutMs?: number;
  logger?: SinkLogger;
}

type Socket = net.Socket | tls.TLSSocket;

/** Syslog RFC 5424 over TCP (RFC 6587 octet counting) or TLS (RFC 5425), with a CEF payload. */
export class SyslogSink implements SiemSink {
  readonly name: string;
  private readonly confirm: SyslogConfirm;
  private readonly log: SinkLogger;
  private persistent: Socket | null = null;
  private persistentBroken: Error | null = null;

  constructor(private readonly options: SyslogSinkOptions) {
    this.name = options.name;
    this.confirm = options.confirm ?? 'receiver-close';
    this.log = options.logger ?? silentSinkLogger;
  }

  /** The RFC 5424 message of one record (without framing). */
  format(record: AuditRecord): string {
    const o = this.options;
    const severityOf = o.severityOf ?? defaultCefSeverity;
    const cefSeverity = severityOf(record);
    const sdId = `openkcm@${o.enterpriseNumber ?? 32473}`;
    const params: Array<[string, string]> = [
      ['position', record.position],
      ['streamId', record.streamId],
      ['revision', String(record.revision)],
      ['type', record.type],
    ];
    if (record.metadata.correlationId) params.push(['correlationId', record.metadata.correlationId]);
    return formatRfc5424({
      facility: o.facility ?? FACILITY_LOG_AUDIT,
      severity: syslogSeverity(cefSeverity),
      timestamp: new Date(record.occurredAt),
      hostname: o.hostname ?? osHostname(),
      appName: o.appName ?? 'openkcm-cmk',
      msgId: record.type.slice(0, 32),
      structuredData: [{ id: sdId, params }],
      msg: formatCef(record, { productVersion: o.productVersion, severityOf: () => cefSeverity }),
    });
  }

  async deliver(batch: readonly AuditRecord[]): Promise<void> {
    if (batch.length === 0) return;
    const payload = Buffer.concat(batch.map((r) => frameOctetCounted(this.format(r))));
    if (this.confirm === 'receiver-close') await this.sendAndConfirm(payload);
    else await this.sendPersistent(payload);
  }

  async close(): Promise<void> {
    const s = this.persistent;
    this.persistent = null;
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(resolve));
  }

  private async sendAndConfirm(payload: Buffer): Promise<void> {
    const socket = await this.connect();
    const timeoutMs = this.options.deliveryTimeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
      let receiverClosed = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SinkDeliveryError('retryable', `${this.where()} did not confirm the batch within ${timeoutMs} ms`));
      }, timeoutMs);
      // 'on', not 'once': a second error after the first must not become an uncaught exception.
      socket.on('error', (e) => {
        clearTimeout(timer);
        socket.destroy();
        reject(this.networkError(e));
      });
      // 'end' is the receiver's FIN; 'close' without it means the connection died under us.
      socket.once('end', () => {
        receiverClosed = true;
      });
      socket.once('close', () => {
        clearTimeout(timer);
        if (receiverClosed) resolve();
        else reject(new SinkDeliveryError('retryable', `${this.where()} dropped the connection before confirming`));
      });
      socket.resume();
      socket.end(payload);
    });
  }

  private async sendPersistent(payload: Buffer): Promise<void> {
    if (!this.persistent || this.persistent.destroyed || this.persistentBroken) {
      this.persistent?.destroy();
      this.persistentBroken = null;
      const socket = await this.connect();
      socket.on('error', (e) => {
        this.persistentBroken = e;
      });
      socket.on('close', () => {
        this.persistentBroken ??= new Error('connection closed');
        this.log.warn({ sink: this.name }, 'syslog connection closed; reconnecting on the next batch');
      });
      socket.resume();
      this.persistent = socket;
    }
    const socket = this.persistent;
    await new Promise<void>((resolve, reject) => {
      socket.write(payload, (e) => {
        if (e || this.persistentBroken) {
          socket.destroy();
          reject(this.networkError(e ?? this.persistentBroken!));
        } else resolve();
      });
    });
  }

  private async connect(): Promise<Socket> {
    const { host, port } = this.options;
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    let t: SyslogTlsOptions | undefined;
    try {
      t = typeof this.options.tls === 'function' ? await this.options.tls() : this.options.tls;
    } catch (e) {
      throw new SinkDeliveryError('failing', `${this.where()} TLS settings unavailable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return new Promise((resolve, reject) => {
      const socket: Socket = t
        ? tls.connect({ host, port, ca: t.ca, cert: t.cert, key: t.key, servername: t.servername ?? (net.isIP(host) ? undefined : host) })
        : net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SinkDeliveryError('retryable', `${this.where()} connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(this.networkError(e));
      };
      socket.on('error', fail);
      socket.once(t ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        // Until the caller attaches its own handler, an error must not crash the process; the caller sees it as a
        // closed connection.
        socket.on('error', () => undefined);
        socket.setNoDelay(true);
        resolve(socket);
      });
    });
  }

  /** Certificate problems need an operator (failing); everything else is a receiver that may come back. */
  private networkError(e: Error): SinkDeliveryError {
    const code = (e as NodeJS.ErrnoException).code ?? e.name;
    const tlsProblem = /CERT|SELF_SIGNED|HOSTNAME|ERR_TLS|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO/.test(code);
    return new SinkDeliveryError(tlsProblem ? 'failing' : 'retryable', `${this.where()}: ${code}`);
  }

  private where(): string {
    return `syslog ${this.options.tls ? 'tls' : 'tcp'}://${this.options.host}:${this.options.port}`;
  }
}

/** CEF 0-10 onto syslog severities: 9-10 critical, 7-8 warning, 4-6 notice, 0-3 informational. */
export function syslogSeverity(cefSeverity: number): number {
  if (cefSeverity >= 9) return 2;
  if (cefSeverity >= 7) return 4;
  if (cefSeverity >= 4) return 5;
  return 6;
}
