/**
 * Runs one autocannon load (api-load.ts) in a worker thread, off the event loop of the servers
 * under test, and resolves with its figures. Aborting `signal` ends the worker.
 */
import { Worker } from 'node:worker_threads';
import type { LoadJob, LoadResult } from './api-load.js';

export function runLoad(job: LoadJob, signal: AbortSignal): Promise<LoadResult> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./api-load.js', import.meta.url), { workerData: job });
    let settled = false;
    const onAbort = () => {
      void worker.terminate();
      settle(() => reject(new Error('interrupted')));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const watchdog = setTimeout(
      () =>
        settle(() => {
          void worker.terminate();
          reject(new Error(`autocannon did not finish within ${job.durationSeconds + 30} s`));
        }),
      (job.durationSeconds + 30) * 1000,
    );
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    worker.once('message', (result: LoadResult) => settle(() => resolve(result)));
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`load worker exited with ${code}`))),
    );
  });
}
