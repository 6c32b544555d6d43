import { RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { PUBLIC_KEY, ROLES_KEY } from './auth.decorators';

export interface RouteDeclaration {
  controller: string;
  handler: string;
  method: string;
  path: string;
  roles?: string[];
  public: boolean;
}

/** The route table with each route's declared access, read from the decorators. */
export function routeTable(controllers: Type<unknown>[]): RouteDeclaration[] {
  const routes: RouteDeclaration[] = [];
  for (const controller of controllers) {
    const base = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, controller) ?? '')[0];
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = proto[name];
      if (name === 'constructor' || typeof fn !== 'function') continue;
      const path = Reflect.getMetadata(PATH_METADATA, fn);
      const method = Reflect.getMetadata(METHOD_METADATA, fn);
      if (path === undefined || method === undefined) continue;
      const roles = Reflect.getMetadata(ROLES_KEY, fn) ?? Reflect.getMetadata(ROLES_KEY, controller);
      const isPublic = Boolean(Reflect.getMetadata(PUBLIC_KEY, fn) ?? Reflect.getMetadata(PUBLIC_KEY, controller));
      const full = `/${[base, path].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
      routes.push({ controller: controller.name, handler: name, method: RequestMethod[method], path: full, roles, public: isPublic });
    }
  }
  return routes;
}

/** Start-up refuses a route that declares neither roles nor public access. */
export function assertEveryRouteDeclared(controllers: Type<unknown>[]): void {
  const undeclared = routeTable(controllers).filter((r) => !r.public && (!r.roles || r.roles.length === 0));
  if (undeclared.length > 0)
    throw new Error(`routes without a role declaration: ${undeclared.map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`).join(', ')}`);
}
