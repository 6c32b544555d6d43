import type { AppConfig } from '../../config/config';
import { ProblemError } from '../../http/problem';
import { EMBEDDED_REGIONS } from '../../embedded/embedded-mesh';

/**
 * The regions whose workers could have served: CMK_REGIONS (the bridge's list), or the embedded demo's workers.
 * Without either the question has no honest answer, so it is refused rather than answered for no region.
 */
export function configuredRegions(config: Pick<AppConfig, 'regions' | 'embeddedMesh'>): string[] {
  if (config.regions.length > 0) return config.regions;
  if (config.embeddedMesh) return [...EMBEDDED_REGIONS];
  throw new ProblemError(503, 'regions-not-configured', 'Regions not configured', 'set CMK_REGIONS to the regions the mesh bridge serves (its own CMK_REGIONS) to ask who could decrypt', { setting: 'CMK_REGIONS' });
}
