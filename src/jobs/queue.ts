/**
 * The job queue: pg-boss on our own PostgreSQL (its tables in the `pgboss` schema, created and
 * migrated by pg-boss when it starts). It carries forecast runs and the fleet-wide chores
 * (chores.ts). Every server can send; a server whose JOBS_WORK is on also works the queues
 * (as does `capliquify worker`). pg-boss connects directly with its own small pool of the login
 * role, never through a transaction-mode pooler (it holds no session state, but its fetch uses
 * SKIP LOCKED and advisory locks that must not hop between backends mid-transaction).
 *
 * Forecast runs: one job per run (the job's id is the run's id), retried `retryLimit` times
 * after `retryDelaySeconds`; a job still active after `expireInSeconds` (its worker died, or it
 * ran too long) is retried the same way. When the last attempt fails or expires, the job goes to
 * the dead-letter queue, whose worker marks the run FAILED with the reason. One run at a time per
 * tenant is the database's rule (forecast_runs_one_active), not the queue's: a second request is
 * refused before it is ever queued.
 */
import PgBoss from 'pg-boss';
import type { DatabasePool } from 'slonik';
import { withTenant } from '../db/tenant-transaction.js';
import { failForecastRun } from '../data/forecast-runs.js';
import { getTenant } from '../tenants/lifecycle.js';
import { NotFoundError } from '../errors.js';
import { executeForecastRun } from '../forecasting/execute.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { TenantRef } from '../tenants/names.js';
import { registerChores, type ChoreSettings } from './chores.js';

export const FORECAST_QUEUE = 'forecast-run';
export const FORECAST_FAILED_QUEUE = 'forecast-run-failed';

export type JobSettings = {
  /** The database pg-boss connects to (the server's own). */
  connectionString: string;
  /** Work the queues here (JOBS_WORK); false: this process only sends jobs. */
  work: boolean;
  /** A forecast job still active after this long is retried (FORECAST_JOB_TIMEOUT_S). */
  forecastTimeoutSeconds: number;
  retryLimit: number;
  retryDelaySeconds: number;
  /** How often an idle worker asks for work (JOBS_POLL_S). */
  pollingIntervalSeconds: number;
  /** How often pg-boss expires, retries and archives jobs (JOBS_MAINTENANCE_S). */
  maintenanceIntervalSeconds: number;
  /** Fleet-wide chores on schedules; undefined: none from this process. */
  chores?: ChoreSettings;
  /** For tests: how often schedules are checked (pg-boss's cron monitor). */
  cronIntervalSeconds?: number;
};

export const DEFAULT_JOB_SETTINGS = {
  work: true,
  forecastTimeoutSeconds: 900,
  retryLimit: 2,
  retryDelaySeconds: 5,
  pollingIntervalSeconds: 2,
  maintenanceIntervalSeconds: 60,
} as const;

/** The queue's settings from the configuration (JOBS_*, FORECAST_JOB_TIMEOUT_S). */
export const jobSettingsOf = (
  jobs: Config['jobs'],
  connectionString: string,
  chores?: ChoreSettings,
): JobSettings => ({
  connectionString,
  work: jobs.work,
  forecastTimeoutSeconds: jobs.forecastTimeoutSeconds,
  retryLimit: jobs.retryLimit,
  retryDelaySeconds: DEFAULT_JOB_SETTINGS.retryDelaySeconds,
  pollingIntervalSeconds: jobs.pollingIntervalSeconds,
  maintenanceIntervalSeconds: jobs.maintenanceIntervalSeconds,
  chores,
});

type ForecastJob = { tenantId: string; runId: string };

export class JobQueue {
  private constructor(
    private readonly boss: PgBoss,
    private readonly settings: JobSettings,
    private readonly pool: DatabasePool,
    private readonly logger: Logger,
  ) {}

  static async start(options: {
    settings: JobSettings;
    pool: DatabasePool;
    logger: Logger;
  }): Promise<JobQueue> {
    const { settings, pool, logger } = options;
    const boss = new PgBoss({
      connectionString: settings.connectionString,
      application_name: 'capliquify-jobs',
      max: 3,
      schedule: settings.work && settings.chores !== undefined,
      supervise: settings.work,
      maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
      ...(settings.cronIntervalSeconds !== undefined
        ? {
            cronMonitorIntervalSeconds: settings.cronIntervalSeconds,
            cronWorkerIntervalSeconds: settings.cronIntervalSeconds,
          }
        : {}),
    });
    boss.on('error', (error) => logger.warn({ err: error }, 'job queue error'));
    await boss.start();
    await ensureQueue(boss, FORECAST_FAILED_QUEUE, { name: FORECAST_FAILED_QUEUE });
    await ensureQueue(boss, FORECAST_QUEUE, {
      name: FORECAST_QUEUE,
      retryLimit: settings.retryLimit,
      retryDelay: settings.retryDelaySeconds,
      expireInSeconds: settings.forecastTimeoutSeconds,
      deadLetter: FORECAST_FAILED_QUEUE,
    });
    const queue = new JobQueue(boss, settings, pool, logger);
    if (settings.work) {
      await boss.work<ForecastJob>(
        FORECAST_QUEUE,
        {
          includeMetadata: true,
          batchSize: 1,
          pollingIntervalSeconds: settings.pollingIntervalSeconds,
        },
        async ([job]) => {
          if (!job) return;
          const log = logger.child({ job: job.id, attempt: job.retryCount + 1 });
          try {
            const tenant = await getTenant(pool, job.data.tenantId).catch((error: unknown) => {
              if (error instanceof NotFoundError) return null;
              throw error;
            });
            // A tenant deleted meanwhile has no run to finish.
            if (!tenant) return;
            const run = await executeForecastRun(pool, tenant, job.data.runId);
            log.info(
              { run: job.data.runId, status: run?.status ?? 'nothing to do' },
              'forecast run done',
            );
          } catch (error) {
            log.warn({ err: error, run: job.data.runId }, 'forecast run attempt failed');
            throw error;
          }
        },
      );
      await boss.work<ForecastJob>(
        FORECAST_FAILED_QUEUE,
        { includeMetadata: true, pollingIntervalSeconds: settings.pollingIntervalSeconds },
        async (jobs) => {
          for (const job of jobs) {
            const tenant = await getTenant(pool, job.data.tenantId).catch(() => null);
            if (!tenant) continue;
            await withTenant(pool, tenant, { readOnly: false }, (db) =>
              failForecastRun(
                db,
                job.data.runId,
                `The run failed ${settings.retryLimit + 1} times (or ran longer than ${settings.forecastTimeoutSeconds} s): ${reasonOf(job.output)}`,
              ),
            );
          }
        },
      );
      if (settings.chores) await registerChores(boss, { pool, logger, ...settings.chores });
    }
    return queue;
  }

  /** Queues a forecast run (the job's id is the run's). */
  async enqueueForecastRun(tenantId: string, runId: string): Promise<void> {
    await this.boss.send(FORECAST_QUEUE, { tenantId, runId } satisfies ForecastJob, {
      id: runId,
      retryLimit: this.settings.retryLimit,
      retryDelay: this.settings.retryDelaySeconds,
      expireInSeconds: this.settings.forecastTimeoutSeconds,
    });
  }

  /**
   * Queues a run whose row has just been committed; a run that cannot be queued is FAILED at
   * once, so it never holds the tenant's one active run.
   */
  queueCommittedRun(tenant: TenantRef, runId: string): void {
    this.enqueueForecastRun(tenant.id, runId).catch(async (error: unknown) => {
      this.logger.error({ err: error, run: runId }, 'could not queue a forecast run');
      await withTenant(this.pool, tenant, { readOnly: false }, (db) =>
        failForecastRun(db, runId, 'The run could not be queued; try again.'),
      ).catch((failure: unknown) =>
        this.logger.error({ err: failure, run: runId }, 'could not mark an unqueued run FAILED'),
      );
    });
  }

  /** Stops fetching, waits up to `timeoutMs` for jobs in progress, closes pg-boss's pool. */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
  }
}

/**
 * createQueue, again when servers starting together collide (pg-boss creates a queue's table
 * and its indexes in one function: two at once can deadlock, or find the row the other inserted).
 */
export async function ensureQueue(
  boss: PgBoss,
  name: string,
  options: PgBoss.Queue,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await boss.createQueue(name, options);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || (code !== '40P01' && code !== '23505' && code !== '42P07')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

/** The last error pg-boss kept for a job (its output), as text. */
function reasonOf(output: unknown): string {
  if (output && typeof output === 'object' && 'message' in output) return String(output.message);
  return output === undefined || output === null
    ? 'it expired'
    : JSON.stringify(output).slice(0, 500);
}
