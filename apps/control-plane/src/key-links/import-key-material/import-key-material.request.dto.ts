import { ApiProperty } from '@nestjs/swagger';
import { IsBase64, IsIn, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IMPORT_WRAPPING_ALGORITHMS, IMPORT_WRAPPING_KEY_SPECS } from '@cmk/domain';

export class ImportParametersRequest {
  @ApiProperty({ enum: IMPORT_WRAPPING_ALGORITHMS, description: 'How the customer will wrap the key material' })
  @IsIn(IMPORT_WRAPPING_ALGORITHMS) wrappingAlgorithm: (typeof IMPORT_WRAPPING_ALGORITHMS)[number];
  @ApiProperty({ enum: IMPORT_WRAPPING_KEY_SPECS, description: 'Size of the RSA wrapping key' })
  @IsIn(IMPORT_WRAPPING_KEY_SPECS) wrappingKeySpec: (typeof IMPORT_WRAPPING_KEY_SPECS)[number];
}

export class ImportParametersResponse {
  @ApiProperty() keyLinkId: string;
  @ApiProperty({ description: 'Names this import at the provider; send it back with the wrapped key material' }) importToken: string;
  @ApiProperty({ enum: IMPORT_WRAPPING_ALGORITHMS }) wrappingAlgorithm: string;
  @ApiProperty({ enum: IMPORT_WRAPPING_KEY_SPECS }) wrappingKeySpec: string;
  @ApiProperty({ description: 'The wrapping public key (PEM SubjectPublicKeyInfo); wrap the key material under it on your own machine (cmk byok wrap)' }) publicKeyPem: string;
  @ApiProperty({ description: 'sha256 of the wrapping public key (DER SPKI), to compare out of band' }) publicKeyFingerprint: string;
  @ApiProperty({ description: 'After this the provider refuses material wrapped under these parameters' }) expiresAt: string;
  @ApiProperty() position: string;
}

export class ImportKeyMaterialRequest {
  @ApiProperty({ description: 'The importToken of the import parameters the material was wrapped under' })
  @IsString() @IsNotEmpty() @MaxLength(8192) importToken: string;
  @ApiProperty({ enum: IMPORT_WRAPPING_ALGORITHMS })
  @IsIn(IMPORT_WRAPPING_ALGORITHMS) wrappingAlgorithm: (typeof IMPORT_WRAPPING_ALGORITHMS)[number];
  @ApiProperty({ description: 'The key material wrapped under the import public key, base64. CMK passes it to the provider and never sees it unwrapped' })
  @IsString() @IsNotEmpty() @MaxLength(16384) @IsBase64() wrappedKeyMaterial: string;
}
