import { PolicyDocument, validatePolicyDocument } from '@cmk/policy';
import { Decider } from '../shared/decider';
import { invalid, invalidState, notFound } from '../shared/errors';
import { PolicyCommand, PolicyScopeCommand } from './policy.commands';
import { PolicyEvent, PolicyScopeEvent } from './policy.events';

export type PolicyState =
  | { exists: false }
  | { exists: true; policyId: string; name: string; description?: string; versions: { version: number; document: PolicyDocument }[] };

export function latestVersion(state: PolicyState): number {
  return state.exists ? state.versions[state.versions.length - 1].version : 0;
}

function requireValidDocument(document: unknown): void {
  const errors = validatePolicyDocument(document);
  if (errors.length > 0)
    throw invalid('policy.document', `policy document is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, {
      errors,
      field: errors[0].path,
    });
}

/** JSON with object keys sorted: PostgreSQL JSONB does not keep key order, so documents read back compare by content. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export const policyDecider: Decider<PolicyCommand, PolicyEvent, PolicyState> = {
  initialState: { exists: false },

  decide(command, state): PolicyEvent[] {
    switch (command.type) {
      case 'DefinePolicy': {
        if (state.exists) throw invalidState('policy.exists', `policy ${command.policyId} already exists; revise it instead`, { policyId: command.policyId });
        if (!command.name?.trim()) throw invalid('policy.name', 'name must not be empty', { field: 'name' });
        requireValidDocument(command.document);
        return [
          {
            type: 'PolicyDefined',
            data: {
              policyId: command.policyId,
              name: command.name.trim(),
              ...(command.description ? { description: command.description } : {}),
              version: 1,
              document: command.document,
            },
          },
        ];
      }
      case 'RevisePolicy': {
        if (!state.exists) throw notFound('policy', command.policyId);
        requireValidDocument(command.document);
        const latest = latestVersion(state);
        if (command.basedOnVersion !== undefined && command.basedOnVersion !== latest)
          throw invalidState('policy.stale-version', `policy ${command.policyId} is at version ${latest}, the change was based on ${command.basedOnVersion}`, {
            policyId: command.policyId,
            latestVersion: latest,
          });
        if (canonicalJson(state.versions[state.versions.length - 1].document) === canonicalJson(command.document)) return [];
        const impact = command.acceptedImpact?.keyLinks ? { acceptedImpact: command.acceptedImpact } : {};
        return [{ type: 'PolicyRevised', data: { policyId: command.policyId, version: latest + 1, document: command.document, ...impact } }];
      }
    }
  },

  evolve(state, event): PolicyState {
    switch (event.type) {
      case 'PolicyDefined':
        return {
          exists: true,
          policyId: event.data.policyId,
          name: event.data.name,
          description: event.data.description,
          versions: [{ version: 1, document: event.data.document }],
        };
      case 'PolicyRevised':
        return state.exists ? { ...state, versions: [...state.versions, { version: event.data.version, document: event.data.document }] } : state;
    }
  },
};

/** Which policies are assigned to one scope ('global' or a tenant), each pinned or following the latest. */
export type PolicyScopeState = { assignments: Record<string, number | 'latest'> };

export const policyScopeDecider: Decider<PolicyScopeCommand, PolicyScopeEvent, PolicyScopeState> = {
  initialState: { assignments: {} },

  decide(command, state): PolicyScopeEvent[] {
    switch (command.type) {
      case 'AssignPolicy': {
        if (!command.policy.exists) throw notFound('policy', command.policyId);
        if (command.version !== undefined && (!Number.isInteger(command.version) || command.version < 1 || command.version > command.policy.latestVersion))
          throw invalid('policy.version', `policy ${command.policyId} has no version ${command.version} (latest is ${command.policy.latestVersion})`, {
            field: 'version',
          });
        const version = command.version ?? 'latest';
        if (Object.hasOwn(state.assignments, command.policyId) && state.assignments[command.policyId] === version) return [];
        const impact = command.acceptedImpact?.keyLinks ? { acceptedImpact: command.acceptedImpact } : {};
        return [{ type: 'PolicyAssigned', data: { scope: command.scope, policyId: command.policyId, version, ...impact } }];
      }
      case 'UnassignPolicy': {
        // hasOwn, not `in`: "toString" or "constructor" are on every object's prototype, not assigned policies.
        if (!Object.hasOwn(state.assignments, command.policyId))
          throw notFound('policy-assignment', `${command.policyId}@${command.scope}`);
        return [{ type: 'PolicyUnassigned', data: { scope: command.scope, policyId: command.policyId } }];
      }
    }
  },

  evolve(state, event): PolicyScopeState {
    switch (event.type) {
      case 'PolicyAssigned':
        return { assignments: { ...state.assignments, [event.data.policyId]: event.data.version } };
      case 'PolicyUnassigned': {
        const { [event.data.policyId]: _removed, ...rest } = state.assignments;
        return { assignments: rest };
      }
    }
  },
};
