/**
 * Wire shapes of the Key Vault keys API as the SDK's generated (de)serializers read and write them
 * (node_modules/@azure/keyvault-keys/dist/commonjs/models/models.js): snake_case JSON, base64url bytes, Unix
 * seconds for times, and the `{ error: { code, message, innererror } }` error body.
 */

export const b64u = (bytes: Buffer): string => bytes.toString('base64url');

/** The service accepts base64url; a value that does not decode to the same text is a BadParameter. */
export function fromB64u(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw new WireError(400, 'BadParameter', `Property ${field} has invalid value`);
  return Buffer.from(value, 'base64url');
}

export class WireError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { error: { code: string; message: string; innererror?: { code: string } } } {
    return { error: { code: this.code, message: this.message, ...(this.innerCode ? { innererror: { code: this.innerCode } } : {}) } };
  }
}

export const keyNotFound = (name: string): WireError =>
  new WireError(404, 'KeyNotFound', `A key with (name/id) ${name} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command.`);

export const badParameter = (message: string): WireError => new WireError(400, 'BadParameter', message);

export const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);
