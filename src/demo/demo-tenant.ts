/**
 * The demo tenant "Sentia Spirits": created with its data in one transaction when missing.
 */
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApiKey, revokeApiKey } from '../auth/api-keys.js';
import { sql } from '../db/sql.js';
import { ConflictError } from '../errors.js';
import {
  createTenant,
  getTenant,
  type LifecycleContext,
  type Tenant,
} from '../tenants/lifecycle.js';
import { NotFoundError } from '../errors.js';
import { seedSentiaData, type DemoSummary } from './sentia-data.js';
import { startOperatorRun, type Progress } from '../forecasting/execute.js';
import type { JobQueue } from '../jobs/queue.js';

export const DEMO_SLUG = 'sentia-spirits';
export const DEMO_NAME = 'Sentia Spirits';

export type DemoResult = { tenant: Tenant; created: boolean; data?: DemoSummary };

const todayUtc = () => new Date().toISOString().slice(0, 10);

export async function ensureDemoTenant(
  ctx: LifecycleContext,
  options: { today?: string } = {},
): Promise<DemoResult> {
  try {
    return { tenant: await getTenant(ctx.pool, DEMO_SLUG), created: false };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  let data: DemoSummary | undefined;
  try {
    const tenant = await createTenant(
      ctx,
      { slug: DEMO_SLUG, name: DEMO_NAME, tier: 'professional', status: 'active' },
      {
        seed: async (tx, { companyId }) => {
          data = await seedSentiaData(tx, { companyId, today: options.today ?? todayUtc() });
        },
      },
    );
    return { tenant, created: true, data };
  } catch (error) {
    // Another process created it at the same moment: that is the outcome we wanted.
    if (error instanceof ConflictError && error.details.field === 'slug') {
      return { tenant: await getTenant(ctx.pool, DEMO_SLUG), created: false };
    }
    throw error;
  }
}

export const DEMO_KEY_NAME = 'npm start demo key';

/**
 * A fresh read-write key for the demo tenant, printed by `npm start`. The key made by the previous
 * start is revoked, so there is only ever one.
 */
export async function issueDemoKey(pool: DatabasePool, tenantId: string): Promise<string> {
  return pool.transaction(async (tx) => {
    const previous = await tx.anyFirst(sql.type(z.object({ id: z.string() }))`
      /* previousDemoKeys */
      SELECT id FROM public.api_keys
      WHERE tenant_id = ${tenantId} AND name = ${DEMO_KEY_NAME} AND revoked_at IS NULL`);
    for (const id of previous) await revokeApiKey(tx, { id, tenantId, actor: 'system' });
    const { key } = await createApiKey(tx, {
      tenantId,
      name: DEMO_KEY_NAME,
      scopes: ['read', 'write'],
      actor: 'system',
    });
    return key;
  });
}

/** The demo's forecasts: daily demand of every active product, three months ahead, model AUTO. */
export const DEMO_FORECAST_REQUEST = {
  type: 'DEMAND',
  periodType: 'DAILY',
  horizon: 90,
  model: 'AUTO',
} as const;

/** Queues the demo's forecast run (`npm start`: start-up does not wait for it). */
export async function queueDemoForecasts(pool: DatabasePool, jobs: JobQueue, tenant: Tenant) {
  return startOperatorRun(
    pool,
    tenant,
    DEMO_FORECAST_REQUEST,
    { actor: 'system' },
    {
      queue: (runId) => jobs.enqueueForecastRun(tenant.id, runId),
    },
  );
}

/** Runs the demo's forecasts here, to the end (`capliquify demo`), from `asOf` (today). */
export async function generateDemoForecasts(
  pool: DatabasePool,
  tenant: Tenant,
  options: { asOf?: string; progress?: Progress } = {},
) {
  return startOperatorRun(
    pool,
    tenant,
    { ...DEMO_FORECAST_REQUEST, asOf: options.asOf ?? null },
    { actor: 'cli' },
    { progress: options.progress },
  );
}
