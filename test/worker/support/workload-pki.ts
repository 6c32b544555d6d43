import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface ClientCertificateOptions {
  /** subjectAltName entries as openssl writes them, e.g. `URI:spiffe://td/tenant/t/system/s`; none: no SAN. */
  sans?: string[];
  /** Validity; default from one hour ago to one day ahead. An expired certificate ends in the past. */
  notBefore?: Date;
  notAfter?: Date;
}

/**
 * A throw-away PKI made with the openssl CLI in a temp directory at run time (no key or certificate is ever
 * committed): CAs, a server certificate for 127.0.0.1, and client certificates with any SAN and validity.
 * `openssl ca` is used for signing because OpenSSL 3.0's `x509 -req` cannot set a validity in the past.
 */
export class WorkloadPki {
  private constructor(readonly dir: string) {}

  static create(): WorkloadPki {
    return new WorkloadPki(mkdtempSync(join(tmpdir(), 'cmk-workload-pki-')));
  }

  /** A self-signed CA; its key stays in the temp directory. */
  ca(name: string): TestCa {
    const dir = join(this.dir, name);
    mkdirSync(join(dir, 'issued'), { recursive: true });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = this',
        '[this]',
        `database = ${join(dir, 'index.txt')}`,
        `new_certs_dir = ${join(dir, 'issued')}`,
        `serial = ${join(dir, 'serial')}`,
        'default_md = sha256',
        'policy = any',
        'unique_subject = no',
        'email_in_dn = no',
        '[any]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    const key = join(dir, 'ca.key');
    const cert = join(dir, 'ca.crt');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    openssl(['req', '-x509', '-new', '-key', key, '-subj', `/CN=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', cert]);
    return new TestCa(dir, name, cert, key);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class TestCa {
  private issued = 0;

  constructor(
    private readonly dir: string,
    readonly name: string,
    readonly certFile: string,
    private readonly keyFile: string,
  ) {}

  get cert(): string {
    return readFileSync(this.certFile, 'utf8');
  }

  /** A TLS server certificate for 127.0.0.1 and localhost. */
  server(name: string): IssuedCertificate {
    return this.issue(name, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], {});
  }

  client(name: string, options: ClientCertificateOptions = {}): IssuedCertificate {
    const ext = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'];
    if (options.sans?.length) ext.push(`subjectAltName=${options.sans.join(',')}`);
    return this.issue(name, ext, options);
  }

  private issue(name: string, extensions: string[], validity: ClientCertificateOptions): IssuedCertificate {
    const base = join(this.dir, `${name}-${this.issued++}`);
    const keyFile = `${base}.key`;
    const certFile = `${base}.crt`;
    writeFileSync(`${base}.ext`, `[ext]\n${extensions.join('\n')}\n`);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
    openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-out', `${base}.csr`]);
    const notBefore = validity.notBefore ?? new Date(Date.now() - 3_600_000);
    const notAfter = validity.notAfter ?? new Date(Date.now() + 86_400_000);
    openssl([
      'ca', '-batch', '-notext', '-config', join(this.dir, 'ca.cnf'), '-cert', this.certFile, '-keyfile', this.keyFile,
      '-in', `${base}.csr`, '-out', certFile, '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter),
      '-extfile', `${base}.ext`, '-extensions', 'ext',
    ]);
    return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  }
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: 'pipe' });
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString('utf8') || e.message}`);
  }
}

/** GeneralizedTime, as `openssl ca -startdate/-enddate` takes it. */
function asn1Time(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
