import { APPROVAL_ACTIONS, POLICY_ALGORITHMS } from './policy-document';

const region = { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', examples: ['eu-central-1'] };
const regionsByJurisdiction = {
  type: 'object',
  description: 'Keyed by jurisdiction (EU, US, CH, ...)',
  additionalProperties: { type: 'array', items: region, minItems: 1 },
};

/**
 * The published JSON Schema (2020-12) of policy documents, served at GET /v1/policies/schema. It mirrors
 * validatePolicyDocument, which stays the authority (it also checks cross-field rules such as
 * warningDays < maxAgeDays and reports every problem with its path); a spec keeps the two in step.
 */
export const POLICY_DOCUMENT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://openkcm.dev/schemas/policy-document.json',
  title: 'OpenKCM CMK policy document',
  type: 'object',
  additionalProperties: false,
  properties: {
    keyStrength: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowedAlgorithms: { type: 'array', minItems: 1, items: { enum: [...POLICY_ALGORITHMS] } },
        minimumBits: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(POLICY_ALGORITHMS.map((a) => [a, { type: 'integer', minimum: 1, maximum: 16384 }])),
        },
      },
    },
    rotation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxAgeDays: { type: 'integer', minimum: 1, maximum: 3650 },
        warningDays: { type: 'integer', minimum: 1, maximum: 3650, description: 'must be smaller than maxAgeDays' },
        tenantKeyMaxAgeDays: {
          type: 'integer',
          minimum: 1,
          maximum: 3650,
          description: 'Maximum age of the current tenant key (L2) version; the scheduler rotates it when reached. Absent: no L2 age limit',
        },
        tenantKeyWarningDays: { type: 'integer', minimum: 1, maximum: 3650, description: 'must be smaller than tenantKeyMaxAgeDays' },
      },
    },
    geofence: {
      type: 'object',
      additionalProperties: false,
      properties: { unwrapRegions: regionsByJurisdiction, rootOfTrustRegions: regionsByJurisdiction },
    },
    providers: {
      type: 'object',
      additionalProperties: false,
      properties: { allowedKinds: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' } } },
    },
    failClosed: {
      type: 'object',
      additionalProperties: false,
      properties: { maxStalenessMs: { type: 'integer', minimum: 100, maximum: 60000 } },
    },
    approvals: {
      type: 'object',
      additionalProperties: false,
      properties: {
        required: {
          type: 'object',
          description: 'Approvers besides the initiator, per action; revocations and the kill switch never wait for approval',
          additionalProperties: false,
          properties: Object.fromEntries(APPROVAL_ACTIONS.map((a) => [a, { type: 'integer', minimum: 0, maximum: 10 }])),
        },
        expiryHours: { type: 'integer', minimum: 1, maximum: 720 },
      },
    },
    hyokHealth: {
      type: 'object',
      additionalProperties: false,
      properties: { onProblem: { enum: ['warn', 'revoke'], description: 'What a key problem found by a health sync triggers; unreachable providers only warn. Default warn.' } },
    },
  },
} as const;
