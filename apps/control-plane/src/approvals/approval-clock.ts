import { Injectable } from '@nestjs/common';

/**
 * The time approvals are decided on (expiry, expiresAt). One injectable seam, so a whole-system test can move
 * time forward by days without sleeping; production reads the system clock.
 */
@Injectable()
export class ApprovalClock {
  now(): Date {
    return new Date();
  }
}
