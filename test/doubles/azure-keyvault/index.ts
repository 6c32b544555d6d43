export * from './azure-keyvault-double';
export { VAULT_SCOPE } from './azure-keyvault-double.token';
