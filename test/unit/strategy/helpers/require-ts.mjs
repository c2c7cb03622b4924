// Worker entry for tests: in Node 20 worker threads, tsx (loaded with --import) hooks `require`
// but not the thread's own ESM loader, so the .ts module named in workerData is required.
import { createRequire } from 'node:module';
import { workerData } from 'node:worker_threads';

createRequire(import.meta.url)(workerData.file);
