import { LinkDispatcher, HostRegistry } from '@wa-link-broker/core/hosts'
import { createLogger } from '@wa-link-broker/core/logger'
import { settleStoppedTask, type Settlement, type SettleDeps } from '@wa-link-broker/core/settle'
import { createDocumentClient, LinkStore, LogoutRequests } from '@wa-link-broker/core/store'
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
const { runtime: config, logLevel, warmWorkers } = loadTaskStoppedConfig()
const logger = createLogger({ name: 'task-stopped', level: logLevel })
const doc = createDocumentClient(config)
const store = new LinkStore(doc, config.tableName)
const registry = new HostRegistry(doc, config.tableName)
export const handler = taskStoppedHandler({
  store,
  logger,
  registry,
  requests: new LogoutRequests(doc, config.tableName, store),
  // Hands a stopped host's links to live warm hosts; it never starts a task (the API and the sweeper do).
  dispatcher: new LinkDispatcher({ registry, warm: warmWorkers, logger }),
})
