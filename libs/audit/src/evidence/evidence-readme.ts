import { EVIDENCE_CONTEXT, EVIDENCE_FORMAT } from './evidence-bundle';

/** README.md written into every bundle: what an auditor needs to check it without the service or this code base. */
export function evidenceReadme(tenantId: string, window: { from: string; to: string }): string {
  return `# Audit evidence bundle

Tenant \`${tenantId}\`, events recorded from ${window.from} to ${window.to}. Format \`${EVIDENCE_FORMAT}\`.

## Verify it

    cmk audit verify --bundle <this directory> --public-key <hex, base64url or PEM file of the key you trust>

Without \`--public-key\` the key in manifest.json is trusted, which only shows the bundle is consistent with
itself: compare its key id with the one the service publishes at \`/.well-known/cmk-audit-keys\` (\`cmk audit key\`).
The verifier needs no access to the service. Exit code 0: everything verified; 8: something did not (the first bad
item is named).

## Files

- \`manifest.json\`: tenant, window, the service's audit public key(s) as published, the streams bundled (how each
  was selected and its revisions), the SHA-256 of every other file, and an Ed25519 signature by the audit key over
  RFC 8785 JSON of \`{ context: "${EVIDENCE_CONTEXT}", manifest: <manifest without signature> }\`.
- \`events.ndjson\`: one event per line in global order: \`position\`, \`stream\`, \`revision\`, \`type\`, \`data\`,
  \`metadata\` (with the chain fields in \`metadata.audit\`), \`recordedAt\` and \`id\` (these two are not hashed).
  Whole streams from revision 0 for the tenant, its key links, systems, L2 key registries, the policy scopes
  governing it and the policies assigned there; only the window for enforcement receipts (\`enforcement-<tenant>\`),
  approvals concerning the tenant, and refused requests that named it (\`denied-<day>\`, a shared stream: only the
  tenant's refusals are bundled, marked \`selected\` in the manifest).
- \`proofs.json\`: an RFC 9162 inclusion proof of every event (leaf index, audit path) against a signed checkpoint.
- \`checkpoints.json\`: the signed checkpoints used, ascending, and an RFC 9162 consistency proof between each
  consecutive pair (the log only grew).
- \`report.html\`: the answers auditors ask for, computed from events.ndjson (print it to PDF).

## What is checked

1. Each event's chain hash: \`SHA-256(prevHash || SHA-256(JCS({data, metadata without audit, streamName, type})))\`
   equals \`metadata.audit.hash\`; revision 0 links to 64 zeros.
2. Consecutive bundled events of a stream link (\`prevHash\` = the previous hash); a revision gap in a contiguous
   stream is a deletion.
3. Each event's leaf (its chain hash) is in the checkpoint's Merkle tree: \`leaf hash = SHA-256(0x00 || leaf)\`.
4. Each checkpoint's Ed25519 signature over JCS \`{context, keyId, rootHash, time, treeSize}\` and each
   consistency proof.
5. Each file's SHA-256 against the manifest, and the manifest's signature.
`;
}
