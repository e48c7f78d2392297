/**
 * Writes schema.graphql from the code (npm run codegen runs it before graphql-codegen).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../config.js';
import { printApiSchema } from '../graphql/schema.js';

await writeFile(path.join(projectRoot, 'schema.graphql'), await printApiSchema());
