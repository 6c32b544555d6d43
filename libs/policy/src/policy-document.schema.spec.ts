import { validatePolicyDocument } from './policy-document';
import { POLICY_DOCUMENT_SCHEMA } from './policy-document.schema';

type Node = { properties?: Record<string, Node> };
const allowedIn = (message: string) => message.replace(/^unknown field; allowed: /, '').split(', ');

/** The schema and the validator name the same fields at every level (an unknown field lists the allowed ones). */
describe('POLICY_DOCUMENT_SCHEMA', () => {
  const levels: [string, (extra: Record<string, unknown>) => unknown, Node][] = [
    ['$', (x) => x, POLICY_DOCUMENT_SCHEMA as Node],
    ...Object.entries(POLICY_DOCUMENT_SCHEMA.properties).map(([name, node]): [string, (x: Record<string, unknown>) => unknown, Node] => [`$.${name}`, (x) => ({ [name]: x }), node as Node]),
    ['$.keyStrength.minimumBits', (x) => ({ keyStrength: { minimumBits: x } }), POLICY_DOCUMENT_SCHEMA.properties.keyStrength.properties.minimumBits as Node],
  ];

  it.each(levels)('lists the same fields as the validator at %s', (path, wrap, node) => {
    const [error] = validatePolicyDocument(wrap({ notAField: 1 }));
    expect(error.path).toBe(`${path}.notAField`);
    expect(allowedIn(error.message).sort()).toEqual(Object.keys(node.properties ?? {}).sort());
  });
});
