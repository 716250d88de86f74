/** Errors of the update layer (agent/update/): bundle delivery, install, health check. */
import { AgentError } from '../lib/errors.ts';

export class UpdateError extends AgentError {}
