/// <reference path="./.sst/platform/config.d.ts" />

/**
 * wa-link-broker on AWS (SST v4). See docs/deploy.md.
 *
 * - LinkTable: the single DynamoDB table, derived from core's `createTableInput` so the local
 *   bootstrap, the tests and AWS share one definition (keys, GSIs, TTL, stream).
 * - DataKey: a KMS key (rotation on) that wraps the credential data keys. Linked as id/ARN only.
 * - Worker: a one-off Fargate task (arm64, 0.5 vCPU / 1 GB) the API starts with RunTask.
 * - Api: the Hono app on Lambda behind a function URL. Sweeper: a one-minute schedule.
 * - WebhookStream: the table's stream subscriber (link events → signed deliveries); WebhookRetry:
 *   a one-minute schedule for the retries.
 *
 * Nothing secret is linked: linked values reach the task as plaintext SST_RESOURCE_* variables in
 * the task definition, so only names, ids and ARNs go there. No top-level imports (SST forbids
 * them in this file): modules are loaded with `await import()` inside `run()`.
 */
export default $config({
  app(input) {
    const prod = input?.stage === 'prod'
    return {
      name: 'wa-link-broker',
      home: 'aws',
      removal: prod ? 'retain' : 'remove',
      protect: prod,
    }
  },
  async run() {
    const { createTableInput, tableDefinition } = await import('./packages/core/src/store/table.ts')
    const { RESOURCE_NAMES } = await import('./packages/core/src/runtime-config.ts')
    const { LAZY_SDK_PARTS, REQUIRE_BANNER } = await import('./scripts/lambda-bundling.ts')
    const prod = $app.stage === 'prod'

    // ---- DynamoDB: translate the CreateTable input into sst.aws.Dynamo args.
    const def = createTableInput('unused')
    const fieldType = { S: 'string', N: 'number', B: 'binary' } as const
    const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined, type: 'HASH' | 'RANGE') =>
      schema?.find((k) => k.KeyType === type)?.AttributeName
    const projectionOf = (p: { ProjectionType?: string; NonKeyAttributes?: string[] } | undefined) =>
      p?.ProjectionType === 'KEYS_ONLY' ? 'keys-only' : p?.ProjectionType === 'INCLUDE' ? (p.NonKeyAttributes ?? []) : 'all'
    const streamView = {
      KEYS_ONLY: 'keys-only',
      NEW_IMAGE: 'new-image',
      OLD_IMAGE: 'old-image',
      NEW_AND_OLD_IMAGES: 'new-and-old-images',
    } as const
    const stream = def.StreamSpecification?.StreamEnabled
      ? streamView[def.StreamSpecification.StreamViewType as keyof typeof streamView]
      : undefined

    const table = new sst.aws.Dynamo(RESOURCE_NAMES.table, {
      fields: Object.fromEntries(
        (def.AttributeDefinitions ?? []).map((a) => [a.AttributeName!, fieldType[a.AttributeType as keyof typeof fieldType]]),
      ),
      primaryIndex: { hashKey: keyOf(def.KeySchema, 'HASH')!, rangeKey: keyOf(def.KeySchema, 'RANGE') },
      globalIndexes: Object.fromEntries(
        (def.GlobalSecondaryIndexes ?? []).map((gsi) => [
          gsi.IndexName!,
          { hashKey: keyOf(gsi.KeySchema, 'HASH')!, rangeKey: keyOf(gsi.KeySchema, 'RANGE'), projection: projectionOf(gsi.Projection) },
        ]),
      ),
      ttl: tableDefinition.ttlAttribute,
      // Webhook events are derived from it (WebhookStream below); core's definition asks for NEW_AND_OLD_IMAGES.
      stream,
      deletionProtection: prod,
      transform: {
        table: (args) => {
          args.pointInTimeRecovery = { enabled: prod }
        },
      },
    })

    // ---- KMS: SST has no KMS component; a Pulumi key wrapped as a Linkable with the IAM it needs.
    const kmsKey = new aws.kms.Key('DataKeyKey', {
      description: `wa-link-broker ${$app.stage}: wraps the data keys of stored WhatsApp credentials`,
      enableKeyRotation: true,
      deletionWindowInDays: prod ? 30 : 7,
    })
    new aws.kms.Alias('DataKeyAlias', { name: `alias/wa-link-broker-${$app.stage}`, targetKeyId: kmsKey.keyId })
    const dataKey = new sst.Linkable(RESOURCE_NAMES.key, {
      properties: { id: kmsKey.keyId, arn: kmsKey.arn },
      include: [
        sst.aws.permission({
          actions: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
          resources: [kmsKey.arn],
        }),
      ],
    })

    // ---- Worker: one Fargate task per link, in the VPC's public subnets (no NAT gateway to pay for).
    const vpc = new sst.aws.Vpc('Vpc')
    const cluster = new sst.aws.Cluster('Cluster', { vpc })
    const worker = new sst.aws.Task(RESOURCE_NAMES.task, {
      cluster,
      architecture: 'arm64',
      cpu: '0.5 vCPU',
      memory: '1 GB',
      image: { context: '.', dockerfile: 'packages/worker/Dockerfile' },
      link: [table, dataKey],
      // Names only (the worker also reads them from its SST links); LINK_ID / WORKER_MODE come per RunTask.
      environment: {
        TABLE_NAME: table.name,
        KMS_KEY_ID: kmsKey.arn,
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
      },
      logging: { retention: prod ? '1 month' : '1 week' },
      dev: { command: 'npx tsx packages/worker/src/main.ts' },
    })

    // ---- API: the Hono app on Lambda with a function URL.
    const nodejs = {
      format: 'esm' as const,
      minify: true,
      banner: REQUIRE_BANNER,
      // The SDK's hot path is bundled (a cold import of the runtime's unbundled copy costs ~150 ms
      // more); the credential providers it loads lazily, and never on Lambda, come from the
      // nodejs22.x runtime. Measured in docs/deploy.md.
      esbuild: { external: LAZY_SDK_PARTS },
    }
    const api = new sst.aws.Function('Api', {
      handler: 'packages/functions/src/lambda.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '512 MB',
      timeout: '15 seconds',
      url: true,
      link: [table, worker, dataKey],
      environment: { TABLE_NAME: table.name, KMS_KEY_ID: kmsKey.arn },
      nodejs,
    })

    // ---- Sweeper: marks links whose worker died; one run a minute.
    new sst.aws.CronV2('Sweeper', {
      schedule: 'rate(1 minute)',
      function: {
        handler: 'packages/functions/src/sweeper.handler',
        runtime: 'nodejs22.x',
        architecture: 'arm64',
        memory: '256 MB',
        timeout: '50 seconds',
        link: [table],
        environment: { TABLE_NAME: table.name },
        nodejs,
      },
    })

    // ---- Webhooks: the table's stream subscriber records each link change's events and makes
    // their first delivery attempt; a one-minute Cron makes the retries. Deliveries go to the
    // public internet from Lambda's own network (no VPC); non-public addresses are refused in code.
    const webhookFunction = {
      runtime: 'nodejs22.x' as const,
      architecture: 'arm64' as const,
      memory: '256 MB' as const,
      // A run starts no attempt after 40 s (DEFAULT_BUDGET_MS); one attempt takes at most 10 s.
      timeout: '60 seconds' as const,
      link: [table, dataKey],
      environment: { TABLE_NAME: table.name, KMS_KEY_ID: kmsKey.arn },
      nodejs,
    }
    table.subscribe(
      'WebhookStream',
      { handler: 'packages/functions/src/webhook-stream.handler', ...webhookFunction },
      {
        // Only records that can make an event (a link's item) or ask for one now (a redelivery).
        filters: [{ dynamodb: { Keys: { sk: { S: ['LINK'] } } } }, { dynamodb: { Keys: { sk: { S: ['QUEUE'] } }, NewImage: { kick: { S: [{ exists: true }] } } } }],
      },
    )
    new sst.aws.CronV2('WebhookRetry', {
      schedule: 'rate(1 minute)',
      function: { handler: 'packages/functions/src/webhook-retry.handler', ...webhookFunction },
    })

    return {
      api: api.url,
      table: table.name,
      kmsKey: kmsKey.arn,
      cluster: cluster.nodes.cluster.name,
      taskDefinition: worker.taskDefinition,
    }
  },
})
