import { describe, expect, it } from 'vitest'
import { taskStoppedEvent } from '../../../test/fixtures/ecs-events.ts'
import { stoppedTaskOf } from './ecs-events.ts'

const base = {
  taskArn: 'arn:aws:ecs:us-east-1:111122223333:task/wa/0123456789abcdef0123456789abcdef',
  clusterArn: 'arn:aws:ecs:us-east-1:111122223333:cluster/wa',
}

describe('stoppedTaskOf', () => {
  it('reads LINK_ID, WORKER_MODE, the stop time and ECS’s reason', () => {
    const event = taskStoppedEvent({ ...base, environment: { LINK_ID: 'lnk_a', WORKER_MODE: 'link' }, stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull access denied' })
    expect(stoppedTaskOf(event)).toEqual({
      taskArn: base.taskArn,
      mode: 'link',
      linkId: 'lnk_a',
      stoppedAt: event.detail.stoppedAt,
      reason: 'TaskFailedToStart: CannotPullContainerError: pull access denied',
    })
  })

  it('takes a warm-host service task (no overrides, group service:…) for a host', () => {
    const task = stoppedTaskOf(taskStoppedEvent({ ...base, startedBy: 'ecs-svc/9223370545345641169', group: 'service:WorkerHosts' }))
    expect(task).toMatchObject({ mode: 'host', linkId: undefined })
  })

  it('ignores anything that is not a stopped task', () => {
    const running = taskStoppedEvent(base)
    expect(stoppedTaskOf({ ...running, detail: { ...running.detail, lastStatus: 'RUNNING' } })).toBeNull()
    expect(stoppedTaskOf({ ...running, 'detail-type': 'ECS Container Instance State Change' })).toBeNull()
    expect(stoppedTaskOf({ source: 'aws.ecs' })).toBeNull()
  })
})
