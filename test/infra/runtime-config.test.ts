import { createCipheriv, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RESOURCE_NAMES, resolveRuntimeConfig, RuntimeConfigError } from '../../packages/core/src/runtime-config.ts'

// What SST puts in a Fargate task definition for `link: [table, key]` plus a linked Task
// (Link.propertiesToEnv: one JSON variable per link, a `type`, and SST_RESOURCE_App).
const linked = {
  [RESOURCE_NAMES.table]: { name: 'wa-link-broker-prod-LinkTableTable-bcdwxyz', type: 'sst.sst.Linkable' },
  [RESOURCE_NAMES.key]: {
    id: '1234abcd-12ab-34cd-56ef-1234567890ab',
    arn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    type: 'sst.sst.Linkable',
  },
  [RESOURCE_NAMES.task]: {
    cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/wa-link-broker-prod-ClusterCluster-kfzeowqd',
    containers: ['Worker'],
    taskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/wa-link-broker-prod-ClusterCluster-kfzeowqd-Worker:3',
    subnets: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
    securityGroups: ['sg-0123456789abcdef0'],
    assignPublicIp: true,
    type: 'sst.sst.Linkable',
  },
}
const app = JSON.stringify({ name: 'wa-link-broker', stage: 'prod' })

function taskEnv(): Record<string, string> {
  return {
    SST_RESOURCE_App: app,
    ...Object.fromEntries(Object.entries(linked).map(([k, v]) => [`SST_RESOURCE_${k}`, JSON.stringify(v)])),
    AWS_REGION: 'eu-west-1',
    ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/abc',
    LINK_ID: 'lnk_x',
  }
}

const expectedEcs = {
  cluster: linked[RESOURCE_NAMES.task].cluster,
  taskDefinition: linked[RESOURCE_NAMES.task].taskDefinition,
  subnets: linked[RESOURCE_NAMES.task].subnets,
  securityGroups: linked[RESOURCE_NAMES.task].securityGroups,
  assignPublicIp: true,
  containerName: 'Worker',
}

describe('resolveRuntimeConfig', () => {
  it('reads SST_RESOURCE_* JSON in a Fargate task', () => {
    expect(resolveRuntimeConfig(taskEnv())).toEqual({
      tableName: linked[RESOURCE_NAMES.table].name,
      region: 'eu-west-1',
      dynamodbEndpoint: undefined,
      kmsKeyId: linked[RESOURCE_NAMES.key].arn,
      ecs: expectedEcs,
      source: 'sst',
    })
  })

  it('decrypts the SST_KEY_FILE a Lambda function gets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sst-res-'))
    const key = randomBytes(32)
    const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 0))
    const body = Buffer.concat([cipher.update(JSON.stringify(linked)), cipher.final(), cipher.getAuthTag()])
    writeFileSync(join(dir, 'resource.enc'), body)
    const env = {
      SST_RESOURCE_App: app,
      SST_KEY: key.toString('base64'),
      SST_KEY_FILE: 'resource.enc',
      LAMBDA_TASK_ROOT: dir,
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'wa-link-broker-prod-ApiFunction-abc',
    }
    const config = resolveRuntimeConfig(env)
    expect(config.tableName).toBe(linked[RESOURCE_NAMES.table].name)
    expect(config.kmsKeyId).toBe(linked[RESOURCE_NAMES.key].arn)
    expect(config.ecs).toEqual(expectedEcs)
    expect(config.region).toBe('us-east-1')

    const tampered = Buffer.from(body)
    tampered[0] ^= 1
    writeFileSync(join(dir, 'resource.enc'), tampered)
    expect(() => resolveRuntimeConfig(env)).toThrow()
  })

  it('falls back to plain env locally', () => {
    expect(resolveRuntimeConfig({ TABLE_NAME: 't1', AWS_REGION: 'eu-central-1', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' })).toEqual({
      tableName: 't1',
      region: 'eu-central-1',
      dynamodbEndpoint: 'http://127.0.0.1:8000',
      kmsKeyId: undefined,
      ecs: undefined,
      source: 'env',
    })
    expect(resolveRuntimeConfig({}).tableName).toBe('wa-link-broker')
    const ecs = resolveRuntimeConfig({
      KMS_KEY_ID: 'alias/wa',
      ECS_CLUSTER: 'c',
      ECS_TASK_DEFINITION: 'td:1',
      ECS_SUBNETS: 'subnet-a, subnet-b',
      ECS_SECURITY_GROUPS: 'sg-1',
      ECS_ASSIGN_PUBLIC_IP: 'true',
    })
    expect(ecs.kmsKeyId).toBe('alias/wa')
    expect(ecs.ecs).toEqual({ cluster: 'c', taskDefinition: 'td:1', subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: true, containerName: 'Worker' })
  })

  it('refuses to guess a table when SST links are active but the table is not linked', () => {
    expect(() => resolveRuntimeConfig({ SST_RESOURCE_App: app })).toThrow(RuntimeConfigError)
    expect(resolveRuntimeConfig({ SST_RESOURCE_App: app, TABLE_NAME: 'x' }).tableName).toBe('x')
  })
})
