import fs from 'node:fs/promises';

export default async function globalTeardown() {
  const cluster = globalThis.__capliquifyTestCluster;
  await cluster?.server?.stop();
  if (cluster?.dir) await fs.rm(cluster.dir, { recursive: true, force: true });
}
