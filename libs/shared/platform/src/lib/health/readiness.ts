import { Public } from '../auth/auth.guard';
import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

/** A dependency the service needs to do its work. A check resolves when the dependency answers. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface CheckResult {
  readonly status: 'up' | 'down';
  readonly error?: string;
}

/**
 * Readiness follows the dependencies: the service is ready only while every registered check answers
 * within its timeout, and stops being ready as soon as shutdown begins (so a load balancer drains it).
 */
export class Readiness {
  private readonly checks: ReadinessCheck[] = [];
  private draining = false;

  constructor(private readonly timeoutMs = 2_000) {}

  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  beginShutdown(): void {
    this.draining = true;
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const results = await Promise.all(this.checks.map(async (check) => [check.name, await this.run(check)] as const));
    const checks = Object.fromEntries(results);
    if (this.draining) checks['shutdown'] = { status: 'down', error: 'shutting down' };
    return { ready: !this.draining && results.every(([, result]) => result.status === 'up'), checks };
  }

  private async run(check: ReadinessCheck): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([check.check(), timeout]);
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(@Inject(Readiness) private readonly readiness: Readiness) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up and its event loop answers.' })
  live(): { status: 'live' } {
    return { status: 'live' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: 200 while every dependency answers, 503 otherwise.' })
  async ready(@Res() response: Response): Promise<void> {
    const { ready, checks } = await this.readiness.evaluate();
    response.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({ status: ready ? 'ready' : 'not_ready', checks });
  }
}
