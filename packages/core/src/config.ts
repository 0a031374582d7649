/**
 * Runtime configuration, resolved in one place: from SST's linked `Resource` when deployed
 * (see `resolveDeployedConfig` in the deploy issue) and from the environment locally.
 */
export interface RuntimeConfig {
  tableName: string
  region: string
  dynamodbEndpoint?: string
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  return {
    tableName: env.TABLE_NAME ?? 'wa-link-broker',
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
  }
}
