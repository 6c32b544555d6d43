/** Cloud region names: eu-central-1, us-east-1, ap-southeast-1, europe-west3, westeurope, on-prem-fra1 ... */
export function isRegion(value: string): boolean {
  // typeof guard: RegExp#test stringifies its argument, so undefined would pass as "undefined" and then crash on .length.
  return typeof value === 'string' && /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(value) && value.length <= 64;
}
