import { Controller, Get } from '@nestjs/common';
import { AdminModuleControllers, Controllers } from '../routes';
import { assertEveryRouteDeclared, routeTable } from './route-audit';
import { Public, Roles } from './auth.decorators';

describe('route audit', () => {
  it('finds a declaration on every route of the control plane', () => {
    const routes = routeTable([...Controllers, ...AdminModuleControllers]);
    expect(routes.length).toBeGreaterThan(25);
    expect(() => assertEveryRouteDeclared([...Controllers, ...AdminModuleControllers])).not.toThrow();
    // Only probes are public; everything else needs a token.
    expect(routes.filter((r) => r.public).map((r) => r.path).sort()).toEqual(['/health/live', '/health/ready']);
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
});
