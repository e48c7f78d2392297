/**
 * The audit trail of refused requests, bounded whatever a caller sends. A request whose sensitive
 * operations the permission guard refuses is one entry (success false) listing what it tried,
 * written on its own since the request writes nothing else. Each actor gets at most
 * REFUSAL_ENTRIES_PER_MINUTE such entries; the refusals beyond are counted in memory and written
 * as one summary entry per actor (`access.refusals_summarised`) every flush interval and at
 * shutdown. A flood of refused requests so writes a few rows a minute, not one per request.
 */
import type { DatabasePool } from 'slonik';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';
import { recordAudit, type AuditSource } from './audit-log.js';

/** Entries of refused requests each actor may write a minute before they are summarised. */
export const REFUSAL_ENTRIES_PER_MINUTE = 20;

/** The action of a summary entry. */
export const REFUSALS_SUMMARISED = 'access.refusals_summarised';

/** Longest resource id an entry records: the argument is the caller's text, not a known id. */
const MAX_RESOURCE_ID = 255;

export type RefusedAttempt = { operation: string; resourceId?: string };

export type RefusedRequest = {
  source: AuditSource;
  tenantId: string | null;
  requestId: string;
  /** The audit action of the first refused operation (api_key.revoked, ...). */
  action: string;
  resourceType?: string;
  /** Every refused sensitive field selection, in document order, without duplicates. */
  attempts: RefusedAttempt[];
  message: string;
};

type Summary = {
  source: AuditSource;
  tenantId: string | null;
  requests: number;
  operations: Record<string, number>;
  from: string;
  to: string;
};

export class RefusalAudit {
  private readonly allowance = new RateLimiterMemory({
    keyPrefix: 'refusals',
    points: REFUSAL_ENTRIES_PER_MINUTE,
    duration: 60,
  });
  private summaries = new Map<string, Summary>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: DatabasePool,
    private readonly logger: Logger,
    private readonly flushIntervalMs = 60_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes what is still summarised; call once requests have stopped. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Records one refused request: an entry, or a count in the actor's summary. */
  async record(refused: RefusedRequest): Promise<void> {
    try {
      await this.allowance.consume(refused.source.actor);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      this.summarise(refused);
      return;
    }
    const attempts = refused.attempts.map((attempt) => ({
      operation: attempt.operation,
      ...(attempt.resourceId !== undefined && attempt.resourceId.length <= MAX_RESOURCE_ID
        ? { resourceId: attempt.resourceId }
        : {}),
    }));
    const [first] = attempts;
    const single = attempts.length === 1;
    try {
      await recordAudit(this.pool, {
        ...refused.source,
        tenantId: refused.tenantId,
        action: refused.action,
        resourceType: refused.resourceType,
        resourceId: single ? first?.resourceId : undefined,
        success: false,
        errorMessage: refused.message,
        metadata: {
          requestId: refused.requestId,
          operation: first?.operation,
          ...(single ? {} : { refused: attempts }),
        },
      });
    } catch (error) {
      this.logger.error(
        { err: error, requestId: refused.requestId },
        'could not record a refused request in the audit log',
      );
    }
  }

  private summarise(refused: RefusedRequest): void {
    const now = new Date().toISOString();
    let summary = this.summaries.get(refused.source.actor);
    if (!summary) {
      summary = {
        source: refused.source,
        tenantId: refused.tenantId,
        requests: 0,
        operations: {},
        from: now,
        to: now,
      };
      this.summaries.set(refused.source.actor, summary);
    }
    summary.requests += 1;
    summary.to = now;
    for (const { operation } of refused.attempts) {
      summary.operations[operation] = (summary.operations[operation] ?? 0) + 1;
    }
  }

  private async flush(): Promise<void> {
    const summaries = [...this.summaries.values()];
    this.summaries = new Map();
    for (const summary of summaries) {
      try {
        await recordAudit(this.pool, {
          ...summary.source,
          tenantId: summary.tenantId,
          action: REFUSALS_SUMMARISED,
          success: false,
          errorMessage: `${summary.requests} more refused requests, beyond ${REFUSAL_ENTRIES_PER_MINUTE} a minute, summarised here.`,
          metadata: {
            refusedRequests: summary.requests,
            operations: summary.operations,
            from: summary.from,
            to: summary.to,
          },
        });
      } catch (error) {
        this.logger.error(
          { err: error, actor: summary.source.actor },
          'could not record a summary of refused requests in the audit log',
        );
      }
    }
  }
}
