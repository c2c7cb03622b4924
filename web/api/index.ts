/** The JSON API under `/api/v1`: routes, their zod schemas, the OpenAPI document and the error shape. */
export { apiRoutes } from './routes.ts';
export { OPERATIONS, openApiDocument, routePath, type ApiOperation } from './openapi.ts';
export { ADMIN_STATUS, apiFail, invalid, issuesOf, type ApiErrorStatus, type ApiIssue } from './errors.ts';
export * as ApiSchemas from './schemas.ts';
