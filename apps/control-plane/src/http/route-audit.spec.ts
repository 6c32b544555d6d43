import { Controller, Get } from '@nestjs/common';
import { AdminModuleControllers, Controllers } from '../routes';
import { assertEveryRouteDeclared, routeTable } from './route-audit';
import { Public, Roles } from './auth.decorators';

describe('route audit', () => {
  it('finds a declaration on every route of the control plane', () => {
    const routes = routeTable([...Controllers, ...AdminModuleControllers]);
    expect(routes.length).toBeGreaterThan(25);
    expect(() => assertEveryRouteDeclared([...Controllers, ...AdminModuleControllers])).not.toThrow();
    // Only probes and the audit checkpoints' public verification keys are public; everything else needs a token.
    expect(routes.filter((r) => r.public).map((r) => r.path).sort()).toEqual(['/.well-known/cmk-audit-keys', '/health/live', '/health/ready']);
  });

  it('refuses a route without a role declaration', () => {
    @Controller('x')
    class Undeclared {
      @Get('open') open() {}
      @Get('ok') @Roles('auditor') ok() {}
      @Get('pub') @Public() pub() {}
    }
    expect(() => assertEveryRouteDeclared([Undeclared])).toThrow(/GET \/x\/open/);
  });

  it('counts an empty role list as undeclared, and a controller-level declaration for every route under it', () => {
    @Controller('y')
    class Empty {
      @Get('none') @Roles() none() {}
    }
    @Controller('z')
    @Roles('auditor')
    class ClassLevel {
      @Get('a') a() {}
    }
    expect(() => assertEveryRouteDeclared([Empty])).toThrow(/GET \/y\/none \(Empty\.none\)/);
    expect(() => assertEveryRouteDeclared([ClassLevel])).not.toThrow();
    expect(routeTable([ClassLevel])).toEqual([{ controller: 'ClassLevel', handler: 'a', method: 'GET', path: '/z/a', roles: ['auditor'], public: false }]);
  });
});
