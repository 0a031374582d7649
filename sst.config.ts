/// <reference path="./.sst/platform/config.d.ts" />

/**
 * wa-link-broker on AWS (SST v4). See docs/deploy.md.
 *
 * - LinkTable: the single DynamoDB table, derived from core's `createTableInput` so the local
 *   bootstrap, the tests and AWS share one definition (keys, GSIs, TTL, stream).
 * - DataKey: a KMS key (rotation on) that wraps the credential data keys. Linked as id/ARN only.
 * - Worker: a one-off Fargate task (arm64, 0.5 vCPU / 1 GB) the API starts with RunTask.
 * - Api: the Hono app on Lambda behind a function URL. Sweeper: a one-minute schedule.
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
    const { ECS_STARTED_BY } = await import('./packages/core/src/launchers/ecs-names.ts')
    const { LAMBDA_BUILD_COMMAND, LAMBDA_HANDLER, LAMBDA_OUT_DIR } = await import('./scripts/lambda-bundling.ts')
    const { execFileSync } = await import('node:child_process')
    const { join } = await import('node:path')
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
      // For the webhook dispatcher to come; core's definition asks for NEW_AND_OLD_IMAGES.
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

    // ---- Lambda code: what ships is what check:infra invokes. The build `npm run build` runs (one
    // directory per LAMBDA_ENTRIES name) runs here, before any Function, so a deploy can never ship
    // a stale dist; SST then deploys each directory as it is (`bundle`: no SST bundler, no SST
    // banner), adding only its encrypted link file, resource.enc.
    const [command, ...args] = LAMBDA_BUILD_COMMAND
    execFileSync(command, args, { cwd: $cli.paths.root, stdio: 'inherit' })
    const shipped = (name: string) => ({ bundle: join($cli.paths.root, LAMBDA_OUT_DIR, name), handler: LAMBDA_HANDLER })

    // ---- API: the Hono app on Lambda with a function URL.
    const api = new sst.aws.Function('Api', {
      ...shipped('api'),
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '512 MB',
      timeout: '15 seconds',
      // The app answers CORS itself (hono/cors, also on 304s); the URL's own CORS would add a second
      // Access-Control-Allow-Origin.
      url: { cors: false },
      link: [table, worker, dataKey],
      environment: { TABLE_NAME: table.name, KMS_KEY_ID: kmsKey.arn },
    })

    // ---- Sweeper: marks links whose worker died and stops workers that outlive their link; once a minute.
    new sst.aws.CronV2('Sweeper', {
      schedule: 'rate(1 minute)',
      function: {
        ...shipped('sweeper'),
        runtime: 'nodejs22.x',
        architecture: 'arm64',
        memory: '256 MB',
        timeout: '50 seconds',
        link: [table, worker],
        environment: { TABLE_NAME: table.name },
      },
    })

    // ---- A worker task stopped: ECS reports it to EventBridge, and the links the task leaves behind
    // end at once (launch_failed if it never claimed its link, worker_lost if it did) instead of
    // after the sweeper's grace. Only this service's tasks: its cluster, started by the API's RunTask
    // (startedBy) or by the warm-host service (ecs-svc/…).
    const taskStopped = new sst.aws.Function('TaskStopped', {
      ...shipped('taskStopped'),
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '256 MB',
      timeout: '30 seconds',
      link: [table],
      environment: { TABLE_NAME: table.name },
    })
    const stoppedRule = new aws.cloudwatch.EventRule('WorkerTaskStopped', {
      description: `wa-link-broker ${$app.stage}: a worker task stopped`,
      eventPattern: $jsonStringify({
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: {
          clusterArn: [cluster.nodes.cluster.arn],
          lastStatus: ['STOPPED'],
          startedBy: [ECS_STARTED_BY, { prefix: 'ecs-svc/' }],
        },
      }),
    })
    new aws.cloudwatch.EventTarget('WorkerTaskStoppedTarget', {
      rule: stoppedRule.name,
      arn: taskStopped.arn,
      retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 20 },
    })
    new aws.lambda.Permission('WorkerTaskStoppedInvoke', {
      action: 'lambda:InvokeFunction',
      function: taskStopped.name,
      principal: 'events.amazonaws.com',
      sourceArn: stoppedRule.arn,
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
