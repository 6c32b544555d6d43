import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { IMPORT_WRAPPING_ALGORITHMS, ImportWrappingAlgorithm } from '@cmk/domain';
import { aesKeyCheckValue, wrapKeyMaterialForImport } from '@cmk/key-providers/byok';
import type { CliIo } from '../http-client';
import { UsageError } from '../errors';
import { Output } from '../output';

export interface ImportParametersFile {
  keyLinkId: string;
  importToken: string;
  wrappingAlgorithm: ImportWrappingAlgorithm;
  wrappingKeySpec: string;
  publicKeyPem: string;
  publicKeyFingerprint: string;
  expiresAt: string;
}

export function readImportParameters(file: string): ImportParametersFile {
  let parsed: Partial<ImportParametersFile>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file} is not an import parameters file (${(e as NodeJS.ErrnoException).code ?? 'not JSON'}); get one with cmk links import-params`);
  }
  for (const field of ['importToken', 'wrappingAlgorithm', 'publicKeyPem', 'expiresAt'] as const)
    if (typeof parsed[field] !== 'string') throw new UsageError(`${file} has no ${field}; get import parameters with cmk links import-params`);
  if (!(IMPORT_WRAPPING_ALGORITHMS as readonly string[]).includes(parsed.wrappingAlgorithm!)) throw new UsageError(`${file}: unknown wrappingAlgorithm ${parsed.wrappingAlgorithm}`);
  return parsed as ImportParametersFile;
}

/** Key material as a file holds it: raw bytes, or hex / base64 text. Never echoed. */
function readKeyMaterial(file: string, format: string): Buffer {
  const raw = readFileSync(file);
  if (format === 'raw') return raw;
  const text = raw.toString('utf8').trim();
  raw.fill(0);
  if (format === 'hex') {
    if (!/^([0-9a-fA-F]{2})+$/.test(text)) throw new UsageError(`${file} is not hex`);
    return Buffer.from(text, 'hex');
  }
  if (format === 'base64') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new UsageError(`${file} is not base64`);
    return Buffer.from(text, 'base64');
  }
  throw new UsageError(`--format must be raw, hex or base64 (got "${format}")`);
}

/**
 * `cmk byok wrap`: runs OFFLINE on the customer's machine. It reads the key material and the import parameters,
 * wraps the material under the provider's public key, and writes the wrapped blob. Nothing is sent anywhere; the
 * key check value printed lets the customer confirm the import later (the provider's KCV must match).
 */
export function byokCommand(io: CliIo): Command {
  const c = new Command('byok').description('bring your own key: wrap key material on your own machine for import');
  c.command('wrap')
    .description('wrap key material offline under import parameters from `cmk links import-params` (no network)')
    .requiredOption('--params <file>', 'import parameters (JSON)')
    .requiredOption('--key <file>', 'the key material: an AES key of 16, 24 or 32 bytes')
    .option('--format <format>', 'how the key file holds the key: raw, hex or base64', 'raw')
    .requiredOption('--out <file>', 'where to write the wrapped key material (binary)')
    .action((o, cmd) => {
      const out = new Output(io, { json: (cmd.optsWithGlobals() as { json?: boolean }).json });
      const params = readImportParameters(o.params);
      if (Date.parse(params.expiresAt) <= Date.now()) throw new UsageError(`the import parameters expired at ${params.expiresAt}; get new ones with cmk links import-params`);
      const material = readKeyMaterial(o.key, o.format);
      try {
        if (![16, 24, 32].includes(material.length)) throw new UsageError(`the key file holds ${material.length} bytes; an AES key is 16, 24 or 32 bytes`);
        const kcv = aesKeyCheckValue(material);
        let wrapped: Buffer;
        try {
          wrapped = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm: params.wrappingAlgorithm, keyMaterial: material });
        } catch (e) {
          throw new UsageError(`cannot wrap under these parameters: ${(e as Error).message}`);
        }
        writeFileSync(o.out, wrapped, { mode: 0o600 });
        const summary = { out: o.out, wrappingAlgorithm: params.wrappingAlgorithm, keyLinkId: params.keyLinkId, bytes: wrapped.length, keyCheckValue: kcv };
        if (out.json) return out.record(summary);
        out.line(`wrapped ${material.length * 8}-bit key material for key link ${params.keyLinkId} into ${o.out} (${params.wrappingAlgorithm}); key check value ${kcv}`);
      } finally {
        material.fill(0);
      }
    });
  return c;
}
