import { Controller, Get, HttpCode, Inject, NotFoundException, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { CheckpointSigner, consistencyProofFromLeafHashes, inclusionProofFromLeafHashes, publicKeyDocument } from '@cmk/audit';
import { Role } from '@cmk/auth';
import { invalid } from '@cmk/domain';
import { Public, Roles } from '../../http/auth.decorators';
import { AuditLeaves } from './audit-leaves';
import { AUDIT_SIGNER, AuditSealer } from './audit-sealer';

const NUMBER = /^\d{1,15}$/;

class InclusionQuery {
  @ApiPropertyOptional({ description: 'Global position of the event' }) @Matches(NUMBER, { message: 'position must be a non-negative integer' }) position: string;
  @ApiPropertyOptional({ description: 'Tree size of the checkpoint to prove against (default: the latest)' })
  @IsOptional() @Matches(NUMBER, { message: 'treeSize must be a non-negative integer' }) treeSize?: string;
}

class ConsistencyQuery {
  @ApiPropertyOptional() @Matches(NUMBER, { message: 'from must be a non-negative integer' }) from: string;
  @ApiPropertyOptional() @IsOptional() @Matches(NUMBER, { message: 'to must be a non-negative integer' }) to?: string;
}

const hex = (hashes: readonly Buffer[]) => hashes.map((h) => h.toString('hex'));

/** The public half of the audit signing key: what auditors trust, fetched without a token. */
@ApiTags('audit')
@Controller('.well-known')
export class AuditKeysController {
  constructor(@Inject(AUDIT_SIGNER) private readonly signer: CheckpointSigner) {}

  @Get('cmk-audit-keys')
  @Public()
  @ApiOperation({ summary: 'Public keys that verify audit checkpoints (Ed25519)' })
  keys() {
    return { keys: [publicKeyDocument(this.signer)] };
  }
}

/** Signed checkpoints and RFC 9162 proofs over the audit log. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditProofsController {
  constructor(
    private readonly leaves: AuditLeaves,
    private readonly sealer: AuditSealer,
  ) {}

  @Get('checkpoints')
  @Roles(Role.Auditor, Role.SecurityOfficer, Role.PlatformOperator)
  @ApiOperation({ summary: 'Signed checkpoints, newest first' })
  async checkpoints() {
    return { items: await this.leaves.checkpoints(100) };
  }

  @Post('checkpoints')
  @HttpCode(200)
  @Roles(Role.PlatformOperator, Role.SecurityOfficer)
  @ApiOperation({ summary: 'Seal now: sign a checkpoint over every event so far (when there is anything new)' })
  seal() {
    return this.sealer.sealNow();
  }

  @Get('proofs/inclusion')
  @Roles(Role.Auditor, Role.SecurityOfficer, Role.PlatformOperator)
  @ApiOperation({ summary: 'Inclusion proof of one event in a signed checkpoint' })
  async inclusion(@Query() q: InclusionQuery) {
    const leaf = await this.leaves.leafAt(q.position);
    if (!leaf) throw new NotFoundException(`no event at position ${q.position} is in the audit tree (yet)`);
    const checkpoint = q.treeSize === undefined ? (await this.leaves.checkpoints(1))[0] : await this.leaves.checkpoint(Number(q.treeSize));
    if (!checkpoint) throw new NotFoundException(q.treeSize === undefined ? 'no checkpoint has been signed yet' : `no checkpoint of tree size ${q.treeSize}`);
    if (leaf.leafIndex >= checkpoint.treeSize)
      throw invalid('audit.not-sealed-yet', `the event at position ${q.position} is leaf ${leaf.leafIndex}, after checkpoint ${checkpoint.treeSize}; wait for the next checkpoint`, { field: 'position' });
    const hashes = await this.leaves.leafHashes(checkpoint.treeSize);
    return { position: q.position, leafIndex: leaf.leafIndex, leaf: leaf.leaf.toString('hex'), proof: hex(inclusionProofFromLeafHashes(leaf.leafIndex, hashes)), checkpoint };
  }

  @Get('proofs/consistency')
  @Roles(Role.Auditor, Role.SecurityOfficer, Role.PlatformOperator)
  @ApiOperation({ summary: 'Consistency proof between two signed checkpoints (the later one extends the earlier)' })
  async consistency(@Query() q: ConsistencyQuery) {
    const older = await this.leaves.checkpoint(Number(q.from));
    const newer = q.to === undefined ? (await this.leaves.checkpoints(1))[0] : await this.leaves.checkpoint(Number(q.to));
    if (!older || !newer) throw new NotFoundException('both tree sizes must be signed checkpoints');
    if (older.treeSize > newer.treeSize) throw invalid('audit.consistency-order', 'from must not be larger than to', { field: 'from' });
    const hashes = await this.leaves.leafHashes(newer.treeSize);
    return { from: older, to: newer, proof: hex(consistencyProofFromLeafHashes(older.treeSize, newer.treeSize, hashes)) };
  }
}
