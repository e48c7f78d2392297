/**
 * Running a forecast run to the end: as a job (each step its own short tenant transaction, so no
 * transaction stays open while models are fitted, and a crash leaves the previous forecasts in
 * place), or inside one transaction (a small run in its request, which also commits or rolls back
 * as a whole).
 */
import type { CommonQueryMethods, DatabasePool } from 'slonik';
import type { AuditSource } from '../audit/audit-log.js';
import { asPlatform, withTenant } from '../db/tenant-transaction.js';
import {
  forecastRunById,
  recordRunProgress,
  startForecastRun,
  type ForecastRunRow,
} from '../data/forecast-runs.js';
import type { TenantRef } from '../tenants/names.js';
import { recordForecastRequest, requestForecastRun, type ForecastRequest } from './request.js';
import { computeRun, loadRunInputs, writeRunResults, type RunInputs } from './run.js';

export type Progress = (done: number, total: number) => void;

const unitsOf = (run: ForecastRunRow, inputs: RunInputs) =>
  run.forecast_type === 'CASH_FLOW'
    ? new Set(inputs.history.map((row) => row.currency)).size
    : inputs.productIds.length;

/**
 * Runs a run in its own transactions as the tenant's role. Returns the finished run, or null when
 * there is nothing to do (the run is gone, or finished already: a job that outlived its run).
 */
export async function executeForecastRun(
  pool: DatabasePool,
  tenant: TenantRef,
  runId: string,
  progress?: Progress,
): Promise<ForecastRunRow | null> {
  const enter = <T>(readOnly: boolean, fn: (db: CommonQueryMethods) => Promise<T>) =>
    withTenant(pool, tenant, { readOnly }, fn);
  const queued = await enter(true, (db) => forecastRunById(db, runId));
  if (!queued || (queued.status !== 'QUEUED' && queued.status !== 'RUNNING')) return null;
  const inputs = await enter(true, (db) => loadRunInputs(db, queued, tenant.id));
  const total = unitsOf(queued, inputs);
  const run = await enter(false, (db) => startForecastRun(db, runId, total));
  if (!run) return null;
  progress?.(0, total);
  const results = await computeRun(run, inputs, async (done) => {
    await enter(false, (db) => recordRunProgress(db, runId, done));
    progress?.(done, total);
  });
  return enter(false, (db) => writeRunResults(db, run, inputs, results));
}

/** Runs a run to the end inside the caller's transaction (the request's). */
export async function executeForecastRunIn(
  db: CommonQueryMethods,
  tenantId: string,
  queued: ForecastRunRow,
): Promise<ForecastRunRow> {
  const inputs = await loadRunInputs(db, queued, tenantId);
  const run = (await startForecastRun(db, queued.id, unitsOf(queued, inputs)))!;
  // Each product's progress is also a statement: the transaction is never idle for long.
  const results = await computeRun(run, inputs, (done) => recordRunProgress(db, run.id, done));
  return writeRunResults(db, run, inputs, results);
}

/**
 * A new run for an operator or the demo (not a request): validated, counted and audited like
 * generateForecasts, committed as QUEUED, then either handed to `queue` or run here to the end.
 */
export async function startOperatorRun(
  pool: DatabasePool,
  tenant: TenantRef & { tier: Parameters<typeof requestForecastRun>[1]['tier'] },
  request: ForecastRequest,
  source: AuditSource,
  options: { queue?: (runId: string) => Promise<void>; progress?: Progress } = {},
): Promise<ForecastRunRow | null> {
  const queued = await withTenant(pool, tenant, { readOnly: false }, async (db) => {
    const run = await requestForecastRun(db, tenant, request, source.actor);
    await asPlatform(db, tenant, (platformDb) =>
      recordForecastRequest(platformDb, tenant.id, run, source, options.queue === undefined),
    );
    return run;
  });
  if (options.queue) {
    await options.queue(queued.id);
    return queued;
  }
  return executeForecastRun(pool, tenant, queued.id, options.progress);
}
