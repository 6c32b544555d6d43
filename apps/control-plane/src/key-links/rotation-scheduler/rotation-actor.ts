/** The service identity every scheduled rotation step is recorded under (platform-wide: no tenant scope). */
export const ROTATION_ACTOR = { subject: 'cmk:rotation-scheduler', roles: ['platform-operator'] };
