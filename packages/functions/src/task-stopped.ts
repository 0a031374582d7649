import { createDocumentClient, createLogger, LinkStore, settleStoppedTask, type Settlement, type SettleDeps } from '@wa-link-broker/core'
import { loadTaskStoppedConfig } from './config.ts'
import { stoppedTaskOf, type EcsTaskStateChange } from './ecs-events.ts'

/**
 * The Lambda behind the EventBridge rule on this service's worker tasks stopping (sst.config.ts
 * "WorkerTaskStopped"): ends the links a stopped task leaves behind at once.
 */
export function taskStoppedHandler(deps: SettleDeps) {
  return async (event: EcsTaskStateChange): Promise<Settlement[]> => {
    const task = stoppedTaskOf(event)
    if (!task) {
      deps.logger?.info({ detailType: event['detail-type'], lastStatus: event.detail?.lastStatus }, 'not a stopped worker task; ignored')
      return []
    }
    const settled = await settleStoppedTask(task, deps)
    deps.logger?.info({ taskArn: task.taskArn, mode: task.mode, reason: task.reason, settled }, 'worker task stopped')
    return settled
  }
}

// Parsed and built once per Lambda instance: a bad value fails its start, naming the variable.
const { runtime: config, logLevel } = loadTaskStoppedConfig()
export const handler = taskStoppedHandler({
  store: new LinkStore(createDocumentClient(config), config.tableName),
  logger: createLogger({ name: 'task-stopped', level: logLevel }),
})
