/**
 * Names the ECS side of the service shares with its infrastructure (sst.config.ts imports this
 * file, so it imports nothing).
 */

/** ECS `startedBy` of every worker task the API starts: the task-stopped rule and the sweeper find them by it. */
export const ECS_STARTED_BY = 'wa-link-broker'
