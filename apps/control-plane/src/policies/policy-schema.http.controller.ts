import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { POLICY_DOCUMENT_SCHEMA } from '@cmk/policy';
import { AnyRole } from '../http/auth.decorators';

@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class PolicySchemaController {
  @Get('schema')
  @AnyRole()
  @ApiOperation({ summary: 'The JSON Schema of policy documents (they may be sent as JSON or as application/yaml)' })
  schema() {
    return POLICY_DOCUMENT_SCHEMA;
  }
}
