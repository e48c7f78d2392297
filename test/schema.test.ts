import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../src/config.js';
import { printApiSchema } from '../src/graphql/schema.js';

const run = promisify(execFile);

test('schema.graphql is the schema the code builds (run `npm run codegen` after a change)', async () => {
  const committed = await readFile(path.join(projectRoot, 'schema.graphql'), 'utf8');
  expect(committed).toBe(await printApiSchema());
});

test('the typed documents in test/generated are current for schema.graphql and test/operations', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'capliquify-codegen-'));
  const output = path.join(dir, 'graphql.ts');
  const config = (await readFile(path.join(projectRoot, 'codegen.yml'), 'utf8')).replace(
    'test/generated/graphql.ts:',
    `${JSON.stringify(output)}:`,
  );
  const configPath = path.join(dir, 'codegen.yml');
  await writeFile(configPath, config);
  await run(
    path.join(projectRoot, 'node_modules', '.bin', 'graphql-codegen'),
    ['--config', configPath, '--silent'],
    {
      cwd: projectRoot,
    },
  );
  expect(await readFile(output, 'utf8')).toBe(
    await readFile(path.join(projectRoot, 'test', 'generated', 'graphql.ts'), 'utf8'),
  );
}, 60_000);
