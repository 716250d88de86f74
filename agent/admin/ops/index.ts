/**
 * Every op the hub's admin API runs, one family per file. To add a family (`config.set`, …):
 * write ops/<family>-ops.ts exporting an array of defineOp(...) and add it to this list.
 */
import type { AdminOp } from '../admin-op.ts';
import { auditOps } from './audit-ops.ts';
import { configOps } from './config-ops.ts';
import { nodeOps } from './node-ops.ts';
import { routeOps } from './route-ops.ts';
import { siteOps } from './site-ops.ts';
import { trunkOps } from './trunk-ops.ts';
import { updateOps } from './update-ops.ts';
import { userOps } from './user-ops.ts';

export const ADMIN_OPS: readonly AdminOp[] = [...userOps, ...routeOps, ...trunkOps, ...siteOps, ...nodeOps, ...configOps, ...updateOps, ...auditOps];
