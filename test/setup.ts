/**
 * Test set-up shared by every file. Property tests are reproducible in CI: fast-check uses a
 * fixed seed there (or FC_SEED when given), and a fresh random seed on a developer's machine,
 * printed on failure, so local runs keep exploring new cases.
 */
import fc from 'fast-check';

const seed = process.env['FC_SEED'] ? Number(process.env['FC_SEED']) : process.env['CI'] ? 20261121 : undefined;
if (seed !== undefined && Number.isFinite(seed)) fc.configureGlobal({ seed });
