import { InvalidKeyReferenceError } from '../key-provider.errors';
import { normaliseVaultUrl, parseAzureKeyRef } from './azure-keyvault-key-ref';

describe('Azure Key Vault key references', () => {
  it('parses a key with and without a version, canonicalising the host', () => {
    expect(parseAzureKeyRef('https://Contoso.vault.azure.net/keys/tenant-l1')).toEqual({
      vaultUrl: 'https://contoso.vault.azure.net',
      name: 'tenant-l1',
      version: undefined,
      canonical: 'https://contoso.vault.azure.net/keys/tenant-l1',
    });
    const pinned = parseAzureKeyRef('https://contoso.managedhsm.azure.net:8443/keys/k1/0123456789abcdef0123456789abcdef');
    expect(pinned.version).toBe('0123456789abcdef0123456789abcdef');
    expect(pinned.vaultUrl).toBe('https://contoso.managedhsm.azure.net:8443');
  });

  it.each([
    '',
    'contoso.vault.azure.net/keys/k',
    'http://contoso.vault.azure.net/keys/k',
    'https://contoso.vault.azure.net/secrets/k',
    'https://contoso.vault.azure.net/keys/',
    'https://contoso.vault.azure.net/keys/under_score',
    'https://contoso.vault.azure.net/keys/k/v-1',
    'https://contoso.vault.azure.net/keys/k/v/extra',
    'https://contoso.vault.azure.net/keys/k?api-version=7.5',
    'https://contoso.vault.azure.net/keys/k#x',
    'https://user:secret@contoso.vault.azure.net/keys/k',
    `https://contoso.vault.azure.net/keys/${'a'.repeat(128)}`,
  ])('refuses %j with InvalidKeyReferenceError, without echoing user info', (ref) => {
    let error: unknown;
    try {
      parseAzureKeyRef(ref);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidKeyReferenceError);
    expect(JSON.stringify({ message: (error as Error).message, details: (error as InvalidKeyReferenceError).details })).not.toContain('secret@');
  });

  it('normalises configured vault URLs and refuses ones with a path, query or plain http', () => {
    expect(normaliseVaultUrl('https://Contoso.vault.azure.net/')).toBe('https://contoso.vault.azure.net');
    expect(normaliseVaultUrl('https://contoso.vault.azure.net/keys')).toBeUndefined();
    expect(normaliseVaultUrl('http://contoso.vault.azure.net')).toBeUndefined();
    expect(normaliseVaultUrl('https://contoso.vault.azure.net/?x=1')).toBeUndefined();
  });
});
