import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { policyDecider, policyStream } from '@cmk/domain';
import { validatePolicyDocument } from '@cmk/policy';
import { Aggregates, ExecutionContext } from '../../shared/aggregates';
import { ApprovalGate } from '../../approvals/approval-gate';
import { GatedResult } from '../../approvals/approval-pending';
import { RevisePolicyRequest } from '../define-policy/define-policy.request.dto';
import { PolicyImpacts } from '../policy-impact';

export class RevisePolicyCommand {
  constructor(readonly policyId: string, readonly request: RevisePolicyRequest, readonly ctx: ExecutionContext) {}
}

/**
 * Every change is a new version; old versions stay readable for audit and time travel. A revision is itself
 * evaluated: where the policy is assigned to follow its latest version, existing key links it would make
 * non-compliant are listed and the change is refused unless the author accepts that impact (then recorded).
 */
@CommandHandler(RevisePolicyCommand)
export class RevisePolicyHandler implements ICommandHandler<RevisePolicyCommand, GatedResult> {
  constructor(private readonly aggregates: Aggregates, private readonly impacts: PolicyImpacts, private readonly gate: ApprovalGate) {}

  async execute({ policyId, request, ctx }: RevisePolicyCommand): Promise<GatedResult> {
    const { acceptImpact, ...change } = request;
    let acceptedImpact;
    if (validatePolicyDocument(change.document).length === 0) {
      const { state } = await this.aggregates.load(policyStream(policyId), policyDecider);
      if (state.exists) {
        const scopes = await this.impacts.scopesFollowing(policyId);
        await this.impacts.assertNoLoosening(policyId, change.document, scopes);
        acceptedImpact = this.impacts.admit(await this.impacts.of(policyId, state.versions.length + 1, change.document, scopes), acceptImpact);
      }
    }
    return this.gate.run(
      {
        operation: 'RevisePolicy',
        target: { policyId },
        request: { ...request },
        stream: policyStream(policyId),
        decider: policyDecider,
        command: { type: 'RevisePolicy', policyId, ...change, acceptedImpact },
      },
      ctx,
    );
  }
}
