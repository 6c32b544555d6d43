import type { NextFunction, Request, Response } from 'express';
import { text } from 'express';
import { JSON_SCHEMA, load, YAMLException } from 'js-yaml';
import { ProblemError } from './problem';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const readText = text({ type: YAML_TYPES, limit: '256kb' });

/**
 * Policy documents may be written in YAML: a body sent as application/yaml is parsed here (JSON schema only: no
 * custom tags, no functions) into the same object a JSON body gives, so validation and the events are the same.
 * A YAML syntax error is a 400 naming the line and column.
 */
export function yamlBody(req: Request, res: Response, next: NextFunction): void {
  if (!req.is(YAML_TYPES)) return next();
  readText(req, res, (error?: unknown) => {
    if (error) return next(error);
    try {
      req.body = load(String(req.body ?? ''), { schema: JSON_SCHEMA, json: true }) ?? {};
      next();
    } catch (e) {
      const mark = e instanceof YAMLException ? e.mark : undefined;
      const where = mark ? ` at line ${mark.line + 1}, column ${mark.column + 1}` : '';
      next(new ProblemError(400, 'validation-error', 'Request validation failed', `the YAML body cannot be parsed${where}`, { errors: [{ field: 'body', message: `invalid YAML${where}` }] }));
    }
  });
}
