/**
 * What-if, optimization and sensitivity scenarios of the current tenant. parameters is a JSON
 * object; results and impactSummary are any JSON the modelling produced. Each JSON input is at most
 * JSON_INPUT_MAX_BYTES serialized. A scenario may name a baseline: another scenario of this tenant,
 * never itself (deleting the baseline clears the reference: ON DELETE SET NULL). Ids reaching this
 * module are UUIDs (the resolver turns anything else into NOT_FOUND).
 */
import type { CommonQueryMethods, FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { guarded, type ConstraintMessages } from './constraint-errors.js';
import { checkJson, jsonbOrNull } from './json-values.js';

export const SCENARIO_TYPES = ['WHAT_IF', 'OPTIMIZATION', 'SENSITIVITY'] as const;
export type ScenarioType = (typeof SCENARIO_TYPES)[number];

export const JSON_INPUT_MAX_BYTES = 64 * 1024;

export const ScenarioRow = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  scenario_type: z.enum(SCENARIO_TYPES),
  parameters: z.record(z.string(), z.unknown()),
  results: z.unknown(),
  impact_summary: z.unknown(),
  baseline_scenario_id: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type ScenarioRow = z.infer<typeof ScenarioRow>;

const scenarioColumns = sql.fragment`
  s.id, s.name, s.description, s.scenario_type, s.parameters, s.results, s.impact_summary,
  s.baseline_scenario_id, s.created_by, s.created_at, s.updated_at`;

const SCENARIO_CONSTRAINTS: ConstraintMessages = {
  scenarios_baseline_scenario_id_fkey: {
    field: 'baselineScenarioId',
    message: 'The baseline scenario does not exist.',
  },
  scenarios_baseline_not_self: {
    field: 'baselineScenarioId',
    message: 'A scenario cannot be its own baseline.',
  },
  scenarios_scenario_type_valid: { field: 'type', message: 'Unknown scenario type.' },
};

/** Newest first. */
export async function listScenarios(db: CommonQueryMethods) {
  return db.any(sql.type(ScenarioRow)`
    /* listScenarios */
    SELECT ${scenarioColumns} FROM scenarios s ORDER BY s.created_at DESC, s.id DESC`);
}

export async function scenarioById(db: CommonQueryMethods, id: string) {
  return db.maybeOne(sql.type(ScenarioRow)`
    /* scenarioById */ SELECT ${scenarioColumns} FROM scenarios s WHERE s.id = ${id}`);
}

export type ScenarioInput = {
  name?: string | null;
  description?: string | null;
  type?: ScenarioType | null;
  parameters?: unknown;
  results?: unknown;
  impactSummary?: unknown;
  baselineScenarioId?: string | null;
};

function validateScenario(input: ScenarioInput, id: string | null) {
  if (input.name !== undefined) {
    const name = [...(input.name?.trim() ?? '')];
    if (name.length === 0 || name.length > 255) {
      throw new BadUserInputError('Invalid name: it must be 1 to 255 characters.', {
        field: 'name',
      });
    }
  }
  if (input.type === null) {
    throw new BadUserInputError('type cannot be null.', { field: 'type' });
  }
  if (input.parameters !== undefined) {
    checkJson('parameters', input.parameters, { maxBytes: JSON_INPUT_MAX_BYTES, object: true });
  }
  for (const [field, value] of [
    ['results', input.results],
    ['impactSummary', input.impactSummary],
  ] as const) {
    if (value !== undefined && value !== null) {
      checkJson(field, value, { maxBytes: JSON_INPUT_MAX_BYTES });
    }
  }
  const baseline = input.baselineScenarioId;
  if (baseline != null && id !== null && baseline.toLowerCase() === id.toLowerCase()) {
    throw new BadUserInputError('A scenario cannot be its own baseline.', {
      field: 'baselineScenarioId',
    });
  }
}

/**
 * The baseline must be one of this tenant's scenarios. Checked before the write (the foreign key
 * stays as the backstop) so the request's transaction is not aborted by a failed statement.
 */
async function assertBaselineExists(db: CommonQueryMethods, baseline: string | null | undefined) {
  if (baseline == null) return;
  const found = await db.oneFirst(sql.type(z.object({ found: z.boolean() }))`
    /* scenarioExists */
    SELECT EXISTS (SELECT 1 FROM scenarios s WHERE s.id = ${baseline}) AS found`);
  if (!found) {
    throw new NotFoundError(`No scenario ${baseline} to use as the baseline.`, {
      field: 'baselineScenarioId',
    });
  }
}

export async function createScenario(
  db: CommonQueryMethods,
  input: ScenarioInput & { name: string; type: ScenarioType },
  createdBy: string | null,
) {
  validateScenario(input, null);
  await assertBaselineExists(db, input.baselineScenarioId);
  return guarded(SCENARIO_CONSTRAINTS, () =>
    db.one(sql.type(ScenarioRow)`
      /* createScenario */
      INSERT INTO scenarios AS s (company_id, name, description, scenario_type, parameters, results,
        impact_summary, baseline_scenario_id, created_by)
      SELECT c.id, ${input.name.trim()}, ${input.description ?? null}, ${input.type},
        ${jsonbOrNull(input.parameters ?? {})}, ${jsonbOrNull(input.results)},
        ${jsonbOrNull(input.impactSummary)}, ${input.baselineScenarioId ?? null}, ${createdBy}
      FROM companies c ORDER BY c.created_at, c.id LIMIT 1
      RETURNING ${scenarioColumns}`),
  );
}

export async function updateScenario(db: CommonQueryMethods, id: string, patch: ScenarioInput) {
  validateScenario(patch, id);
  const sets: FragmentSqlToken[] = [];
  if (patch.name !== undefined) sets.push(sql.fragment`name = ${(patch.name ?? '').trim()}`);
  if (patch.description !== undefined) {
    sets.push(sql.fragment`description = ${patch.description}`);
  }
  if (patch.type != null) sets.push(sql.fragment`scenario_type = ${patch.type}`);
  if (patch.parameters !== undefined) {
    sets.push(sql.fragment`parameters = ${jsonbOrNull(patch.parameters)}`);
  }
  if (patch.results !== undefined) sets.push(sql.fragment`results = ${jsonbOrNull(patch.results)}`);
  if (patch.impactSummary !== undefined) {
    sets.push(sql.fragment`impact_summary = ${jsonbOrNull(patch.impactSummary)}`);
  }
  if (patch.baselineScenarioId !== undefined) {
    sets.push(sql.fragment`baseline_scenario_id = ${patch.baselineScenarioId}`);
  }
  if (sets.length === 0) throw new BadUserInputError('Nothing to update: give at least one field.');
  await assertBaselineExists(db, patch.baselineScenarioId);
  const row = await guarded(SCENARIO_CONSTRAINTS, () =>
    db.maybeOne(sql.type(ScenarioRow)`
      /* updateScenario */
      UPDATE scenarios AS s SET ${sql.join(sets, sql.fragment`, `)} WHERE s.id = ${id}
      RETURNING ${scenarioColumns}`),
  );
  if (!row) throw new NotFoundError(`No scenario ${id}.`, { field: 'id' });
  return row;
}

/** Deletes a scenario; scenarios that used it as their baseline keep existing without one. */
export async function deleteScenario(db: CommonQueryMethods, id: string): Promise<string> {
  const deleted = await db.maybeOneFirst(sql.type(z.object({ id: z.string() }))`
    /* deleteScenario */ DELETE FROM scenarios s WHERE s.id = ${id} RETURNING s.id`);
  if (deleted === null) throw new NotFoundError(`No scenario ${id}.`, { field: 'id' });
  return deleted;
}
