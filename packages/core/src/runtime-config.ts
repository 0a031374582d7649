import { createDecipheriv } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { envString, envUrl, unsetIfEmpty } from './config/env.ts'
import { KEY_BYTES } from './crypto/envelope.ts'

/**
 * Where the API, the sweeper and the worker find their table, their ECS task and their KMS key.
 *
 * Deployed with SST, the values come from the resources linked in `sst.config.ts`:
 * - a Fargate task gets them as plaintext `SST_RESOURCE_<Name>` environment variables (JSON);
 * - a Lambda function gets only `SST_RESOURCE_App` plus `SST_KEY` / `SST_KEY_FILE`: the linked
 *   values sit in an AES-256-GCM encrypted file (`resource.enc`) shipped inside the bundle.
 * This module reads both forms itself rather than importing `Resource` from the `sst` package:
 * that import is only ~2 KB bundled, but as a runtime dependency `sst` would drag its CLI binary
 * (tens of MB, per platform) into the worker image. See docs/deploy.md.
 *
 * Locally (no `SST_RESOURCE_App`), everything comes from plain environment variables.
 * Only names, ids and ARNs travel this way; no secret material is linked. Each process parses its
 * variables once (its schema spreads storeEnvShape, below) and hands the parsed values here.
 */

/** The names given to the linked resources in `sst.config.ts`. Both sides import this. */
export const RESOURCE_NAMES = {
  /** The table's name (`{ name }`). */
  table: 'LinkStore',
  /** How to start a worker task: what `sst.aws.Task#getSSTLink()` exposes, linked without its ecs:* grant. */
  task: 'WorkerLaunch',
  /** The KMS key (`{ id, arn }`). */
  key: 'DataKey',
} as const

/** The variable a linked resource reaches a Fargate task in. */
const sstLink = <N extends string>(name: N) => `SST_RESOURCE_${name}` as const

/**
 * Where every process finds the table, the worker task and the key that wraps credentials: plain
 * variables locally, SST's links in AWS (resolveRuntimeConfig reads both from the parsed values).
 */
export const storeEnvShape = {
  TABLE_NAME: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name: 3-255 letters, digits, _ . -').optional()),
  AWS_REGION: envString(),
  AWS_DEFAULT_REGION: envString(),
  DYNAMODB_ENDPOINT: envUrl(['http', 'https']),
  KMS_KEY_ID: envString(),
  /** Another KMS endpoint (tests speak the KMS protocol to a local server). */
  KMS_ENDPOINT: envUrl(['http', 'https']),
  DATA_KEY: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      // Never echo the value: it is a secret.
      .refine((value) => Buffer.from(value.trim(), 'base64').length === KEY_BYTES, `must be the base64 encoding of exactly ${KEY_BYTES} bytes`)
      .optional(),
  ),
  DATA_KEY_FILE: envString(),
  /** How to start a worker task without SST (comma-separated lists; see ecsFromEnv). */
  ECS_CLUSTER: envString(),
  ECS_TASK_DEFINITION: envString(),
  ECS_SUBNETS: envString(),
  ECS_SECURITY_GROUPS: envString(),
  ECS_ASSIGN_PUBLIC_IP: envString(),
  ECS_CONTAINER_NAME: envString(),
  /** SST's links: JSON per linked resource in a task; an encrypted file (`SST_KEY_FILE`) in a Lambda. */
  SST_RESOURCE_App: envString(),
  [sstLink(RESOURCE_NAMES.table)]: envString(),
  [sstLink(RESOURCE_NAMES.task)]: envString(),
  [sstLink(RESOURCE_NAMES.key)]: envString(),
  SST_KEY: envString(),
  SST_KEY_FILE: envString(),
  LAMBDA_TASK_ROOT: envString(),
}

/** The store variables of a process's environment, parsed. */
export type StoreEnv = z.output<z.ZodObject<typeof storeEnvShape>>

export interface EcsTaskConfig {
  cluster: string
  taskDefinition: string
  subnets: string[]
  securityGroups: string[]
  assignPublicIp: boolean
  containerName: string
}

export interface ResolvedRuntimeConfig {
  tableName: string
  region: string
  /** Set only locally (DynamoDB Local). */
  dynamodbEndpoint?: string
  /** KMS key id or ARN that wraps the credential data keys; unset locally unless KMS_KEY_ID is. */
  kmsKeyId?: string
  /** How to RunTask a worker; unset when no ECS task is configured (local child processes). */
  ecs?: EcsTaskConfig
  /** Where the values came from. */
  source: 'sst' | 'env'
}

export class RuntimeConfigError extends Error {
  override name = 'RuntimeConfigError'
}

export function resolveRuntimeConfig(env: StoreEnv): ResolvedRuntimeConfig {
  const resources = env.SST_RESOURCE_App ? readSstResources(env) : undefined
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'
  const dynamodbEndpoint = env.DYNAMODB_ENDPOINT || undefined

  if (resources) {
    const table = resources[RESOURCE_NAMES.table] as { name?: string } | undefined
    const key = resources[RESOURCE_NAMES.key] as { id?: string; arn?: string } | undefined
    const task = resources[RESOURCE_NAMES.task] as SstTaskLink | undefined
    const tableName = table?.name || env.TABLE_NAME
    if (!tableName) {
      throw new RuntimeConfigError(`SST links are active but "${RESOURCE_NAMES.table}" is not linked and TABLE_NAME is unset`)
    }
    return {
      tableName,
      region,
      dynamodbEndpoint,
      kmsKeyId: key?.arn || key?.id || env.KMS_KEY_ID || undefined,
      ecs: task ? ecsFromSstTask(task) : ecsFromEnv(env),
      source: 'sst',
    }
  }

  return {
    tableName: env.TABLE_NAME || 'wa-link-broker',
    region,
    dynamodbEndpoint,
    kmsKeyId: env.KMS_KEY_ID || undefined,
    ecs: ecsFromEnv(env),
    source: 'env',
  }
}

/** What `sst.aws.Task#getSSTLink()` exposes (sst.config.ts links the same properties as RESOURCE_NAMES.task). */
interface SstTaskLink {
  cluster: string
  taskDefinition: string
  subnets: string[]
  securityGroups: string[]
  assignPublicIp: boolean
  containers: string[]
}

function ecsFromSstTask(task: SstTaskLink): EcsTaskConfig {
  const containerName = task.containers?.[0]
  if (!task.cluster || !task.taskDefinition || !containerName) {
    throw new RuntimeConfigError(`linked task "${RESOURCE_NAMES.task}" lacks cluster, taskDefinition or containers`)
  }
  return {
    cluster: task.cluster,
    taskDefinition: task.taskDefinition,
    subnets: [...(task.subnets ?? [])],
    securityGroups: [...(task.securityGroups ?? [])],
    assignPublicIp: task.assignPublicIp === true,
    containerName,
  }
}

/** ECS_CLUSTER, ECS_TASK_DEFINITION, ECS_SUBNETS / ECS_SECURITY_GROUPS (comma-separated), ECS_ASSIGN_PUBLIC_IP, ECS_CONTAINER_NAME. */
function ecsFromEnv(env: StoreEnv): EcsTaskConfig | undefined {
  if (!env.ECS_CLUSTER || !env.ECS_TASK_DEFINITION) return undefined
  const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  return {
    cluster: env.ECS_CLUSTER,
    taskDefinition: env.ECS_TASK_DEFINITION,
    subnets: list(env.ECS_SUBNETS),
    securityGroups: list(env.ECS_SECURITY_GROUPS),
    assignPublicIp: /^(1|true|yes|enabled)$/i.test(env.ECS_ASSIGN_PUBLIC_IP ?? ''),
    containerName: env.ECS_CONTAINER_NAME || 'Worker',
  }
}

/**
 * The linked resources, keyed by name: `SST_RESOURCE_<Name>` JSON variables, merged with the
 * decrypted `SST_KEY_FILE` when present (how SST ships links to a Lambda function).
 */
export function readSstResources(env: StoreEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SST_RESOURCE_') || !value) continue
    try {
      out[name.slice('SST_RESOURCE_'.length)] = JSON.parse(value)
    } catch {
      throw new RuntimeConfigError(`${name} is not valid JSON`)
    }
  }
  if (env.SST_KEY && env.SST_KEY_FILE) {
    Object.assign(out, decryptSstKeyFile(env.SST_KEY, env.SST_KEY_FILE, env.LAMBDA_TASK_ROOT))
  }
  return out
}

/** SST's format: AES-256-GCM, base64 key, all-zero 12-byte nonce, 16-byte tag appended. */
function decryptSstKeyFile(keyBase64: string, file: string, root?: string): Record<string, unknown> {
  const path = isAbsolute(file) ? file : resolve(root || process.cwd(), file)
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch (error) {
    throw new RuntimeConfigError(`cannot read SST resource file ${path}: ${(error as Error).message}`)
  }
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyBase64, 'base64'), Buffer.alloc(12, 0))
  decipher.setAuthTag(data.subarray(-16))
  const plain = Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()])
  return JSON.parse(plain.toString('utf8')) as Record<string, unknown>
}
