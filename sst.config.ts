/// <reference path="./.sst/platform/config.d.ts" />

/**
 * wa-link-broker on AWS (SST v4). See docs/deploy.md.
 *
 * - LinkTable: the single DynamoDB table, derived from core's `createTableInput` so the local
 *   bootstrap, the tests and AWS share one definition (keys, GSIs, TTL, stream).
 * - DataKeyKey: a KMS key (rotation on) that wraps the credential data keys.
 * - LinkStore / DataKey / WorkerLaunch: links carrying names, ids and ARNs, no grants; every role's
 *   IAM statements are written out below (check:infra asserts them exactly).
 * - Worker: a one-off Fargate task (arm64, 0.5 vCPU / 1 GB) the API starts with RunTask;
 *   WorkerHosts: the warm-host service (WORKER_MODE=host), its count per stage.
 * - Api, Sweeper (one-minute schedule), TaskStopped (EventBridge: a worker task stopped),
 *   WebhookStream (the table's stream subscriber: link events, handed to WebhookDeliver), WebhookDeliver
 *   (signed deliveries), WebhookRetry (one-minute schedule: webhook retries): Lambdas deployed from
 *   the bundles the Lambda build (scripts/build.ts lambda) writes, which this config runs first.
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
    const { LAMBDA_BUILD_ARGS, LAMBDA_HANDLER, LAMBDA_OUT_DIR } = await import('./scripts/lambda-bundling.ts')
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

    // Named "LinkTable" for good: renaming the component would replace the table.
    const table = new sst.aws.Dynamo('LinkTable', {
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

    // ---- KMS: SST has no KMS component; a Pulumi key, linked by id/ARN.
    const kmsKey = new aws.kms.Key('DataKeyKey', {
      description: `wa-link-broker ${$app.stage}: wraps the data keys of stored WhatsApp credentials`,
      enableKeyRotation: true,
      deletionWindowInDays: prod ? 30 : 7,
    })
    new aws.kms.Alias('DataKeyAlias', { name: `alias/wa-link-broker-${$app.stage}`, targetKeyId: kmsKey.keyId })

    // ---- Permissions: every role gets exactly the calls its code makes, nothing SST would add by
    // linking (a linked Dynamo grants dynamodb:* on the table and its backups and streams; a linked
    // Task grants ecs:*; SST's task role adds ECS Exec's ssmmessages:*). So links carry names only
    // (sst.Linkable without `include`) and each role's statements are written out here. The tests
    // assert them exactly, and derive from each shipped bundle the AWS calls its code can make: a
    // grant nothing calls, or a call without its grant, fails (test/infra/iam.test.ts).
    type Statement = { actions: string[]; resources: $util.Input<string>[]; conditions?: { test: string; variable: string; values: $util.Input<string>[] }[] }
    // Item-level calls on the table, and Query on its indexes too: no Scan, no table, backup, stream
    // or TTL calls. A transaction needs the action of each kind of item in it (Put and Update here:
    // no ConditionCheck, no Delete); BatchWriteItem is how credentials are erased.
    const tableCalls = (...actions: ('GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem')[]): Statement[] => [
      { actions: actions.filter((a) => a !== 'Query').map((a) => `dynamodb:${a}`), resources: [table.arn] },
      ...(actions.includes('Query') ? [{ actions: ['dynamodb:Query'], resources: [table.arn, $interpolate`${table.arn}/index/*`] }] : []),
    ]
    // Data keys are bound to their link by the encryption context {linkId}: a call without it, or with
    // any other key in it, is refused (the key provider always sends exactly that context).
    const dataKeyCalls = (actions: string[]): Statement => ({
      actions,
      resources: [kmsKey.arn],
      conditions: [
        { test: 'ForAllValues:StringEquals', variable: 'kms:EncryptionContextKeys', values: ['linkId'] },
        { test: 'StringLike', variable: 'kms:EncryptionContext:linkId', values: ['lnk_*'] },
      ],
    })
    // Tenants' webhook signing secrets have data keys of their own, bound by the context {tenantId}:
    // a role that may unwrap these cannot unwrap a link's credentials, and the worker cannot unwrap these.
    const secretKeyCalls = (actions: string[]): Statement => ({
      actions,
      resources: [kmsKey.arn],
      conditions: [
        { test: 'ForAllValues:StringEquals', variable: 'kms:EncryptionContextKeys', values: ['tenantId'] },
        { test: 'StringLike', variable: 'kms:EncryptionContext:tenantId', values: ['*'] },
      ],
    })
    const iamPolicy = (statements: Statement[]) =>
      $jsonStringify({
        Version: '2012-10-17',
        Statement: statements.map((st) => ({
          Effect: 'Allow',
          Action: st.actions,
          Resource: st.resources,
          ...(st.conditions?.length
            ? { Condition: st.conditions.reduce<Record<string, Record<string, unknown>>>((c, k) => ({ ...c, [k.test]: { ...c[k.test], [k.variable]: k.values } }), {}) }
            : {}),
        })),
      })

    // The worker parses untrusted WhatsApp traffic: it may read and write items and wrap/unwrap data
    // keys, and nothing else (its residual reach is in docs/deploy.md). Its auth state is read and
    // written in batches; it deletes its host item (on drain) and a logout request it finished.
    const workerStatements = [
      ...tableCalls('GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'),
      dataKeyCalls(['kms:GenerateDataKey', 'kms:Decrypt']),
    ]
    const workerRole = new aws.iam.Role('WorkerTaskRole', {
      description: `wa-link-broker ${$app.stage}: the link worker (Fargate task and warm hosts)`,
      assumeRolePolicy: $jsonStringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
      inlinePolicies: [{ name: 'worker', policy: iamPolicy(workerStatements) }],
    })

    // ---- Worker: one Fargate task per link, in the VPC's public subnets (no NAT gateway to pay for).
    const vpc = new sst.aws.Vpc('Vpc')
    const cluster = new sst.aws.Cluster('Cluster', { vpc })
    const tableLink = new sst.Linkable(RESOURCE_NAMES.table, { properties: { name: table.name } })
    const dataKey = new sst.Linkable(RESOURCE_NAMES.key, { properties: { id: kmsKey.keyId, arn: kmsKey.arn } })
    // Names only (the worker also reads them from its SST links); LINK_ID / WORKER_MODE come per RunTask.
    const workerEnv = { TABLE_NAME: table.name, KMS_KEY_ID: kmsKey.arn, LOG_LEVEL: 'info', NODE_ENV: 'production' }
    const worker = new sst.aws.Task('Worker', {
      cluster,
      architecture: 'arm64',
      cpu: '0.5 vCPU',
      memory: '1 GB',
      image: { context: '.', dockerfile: 'packages/worker/Dockerfile' },
      taskRole: workerRole.name,
      link: [tableLink, dataKey],
      environment: workerEnv,
      logging: { retention: prod ? '1 month' : '1 week' },
      dev: { command: 'npx tsx packages/worker/src/main.ts' },
    })
    // How the API and the sweeper reach worker tasks (what a linked Task would expose, without its ecs:*).
    const workerLaunch = new sst.Linkable(RESOURCE_NAMES.task, {
      properties: {
        cluster: worker.cluster,
        containers: worker.containers,
        taskDefinition: worker.taskDefinition,
        subnets: worker.subnets,
        securityGroups: worker.securityGroups,
        assignPublicIp: worker.assignPublicIp,
      },
    })

    // ---- Warm worker hosts (WORKER_MODE=host): long-lived workers, same image and role as the task,
    // that take new links at once; when none has room, the API RunTasks one more host from the task
    // above (WORKER_MODE=host + LINK_ID overrides). The count is per stage (prod 1, others 0) unless
    // WARM_WORKERS is set when deploying. With 0, links each get a one-shot task, unless
    // OVERFLOW_HOSTS=1 is set when deploying: then a link with no host starts one, which stays 5
    // minutes for the next ones (no floor, no idle cost). The functions that dispatch are told both.
    // ECS gives a stopping host 120 s (Fargate's most) between SIGTERM and SIGKILL to hand its links over.
    const warmSetting = process.env.WARM_WORKERS ?? (prod ? '1' : '0')
    if (!/^\d+$/.test(warmSetting)) throw new Error(`Invalid configuration: WARM_WORKERS: must be a whole number of hosts (0 or more), not "${warmSetting}"`)
    const warmWorkers = Number(warmSetting)
    const overflowHosts = process.env.OVERFLOW_HOSTS?.trim() || '0'
    if (!/^[01]$/.test(overflowHosts)) throw new Error(`Invalid configuration: OVERFLOW_HOSTS: must be 0 or 1, not "${overflowHosts}"`)
    const dispatchEnv = { WARM_WORKERS: String(warmWorkers), OVERFLOW_HOSTS: overflowHosts }
    new sst.aws.Service('WorkerHosts', {
      cluster,
      architecture: 'arm64',
      cpu: '0.5 vCPU',
      memory: '1 GB',
      // The image the task runs, by digest: one build, one image for both.
      image: worker.nodes.taskDefinition.containerDefinitions.apply((defs) => JSON.parse(defs)[0].image as string),
      taskRole: workerRole.name,
      link: [tableLink, dataKey],
      environment: { ...workerEnv, WORKER_MODE: 'host' },
      // No load balancer: hosts only dial out (to WhatsApp, DynamoDB, KMS).
      scaling: { min: warmWorkers, max: warmWorkers },
      logging: { retention: prod ? '1 month' : '1 week' },
      transform: {
        taskDefinition: (args) => {
          args.containerDefinitions = $output(args.containerDefinitions).apply((defs) =>
            JSON.stringify((JSON.parse(defs) as object[]).map((c) => ({ ...c, stopTimeout: 120 }))),
          )
        },
      },
      dev: { command: 'npx tsx packages/worker/src/main.ts' },
    })

    const onCluster = [{ test: 'ArnEquals', variable: 'ecs:cluster', values: [cluster.nodes.cluster.arn] }]
    const clusterTasks = cluster.nodes.cluster.arn.apply((arn) => `${arn.replace(':cluster/', ':task/')}/*`)
    const startWorkers: Statement[] = [
      { actions: ['ecs:RunTask'], resources: [worker.taskDefinition], conditions: onCluster },
      {
        actions: ['iam:PassRole'],
        resources: [workerRole.arn, worker.nodes.executionRole.arn],
        conditions: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['ecs-tasks.amazonaws.com'] }],
      },
    ]
    const stopOrphans: Statement[] = [
      { actions: ['ecs:ListTasks'], resources: ['*'], conditions: onCluster },
      { actions: ['ecs:DescribeTasks', 'ecs:StopTask'], resources: [clusterTasks] },
    ]

    // ---- Lambda code: what ships is what the tests invoke. The Lambda build (buildLambda()'s
    // defaults, one directory per LAMBDA_ENTRIES name; the tests run this same recorded command) runs
    // here, before any Function, so a deploy can never ship a stale dist; SST then deploys each
    // directory as it is (`bundle`: no SST bundler, no SST banner), adding only its encrypted link
    // file, resource.enc.
    execFileSync(process.execPath, [...LAMBDA_BUILD_ARGS], { cwd: $cli.paths.root, stdio: 'inherit' })
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
      link: [tableLink, workerLaunch, dataKey],
      // DynamoDB: BatchGetItem prunes the tenant's links in progress; a cancel erases credentials
      // (BatchWriteItem); a repeated DELETE of a logout whose link is no longer linked deletes the
      // request. KMS: credentials export (Decrypt); the webhook secret, created on first read and on rotation.
      permissions: [
        ...tableCalls('GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'),
        ...startWorkers,
        dataKeyCalls(['kms:Decrypt']),
        secretKeyCalls(['kms:GenerateDataKey', 'kms:Decrypt']),
      ],
      environment: { TABLE_NAME: table.name, KMS_KEY_ID: kmsKey.arn, ...dispatchEnv },
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
        link: [tableLink, workerLaunch],
        // It updates and erases (BatchWriteItem), never creates; it deletes the logout requests it
        // settles. startWorkers: a logout whose worker died is sent again, to a new task when no
        // warm host has room.
        permissions: [...tableCalls('GetItem', 'Query', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'), ...stopOrphans, ...startWorkers],
        environment: { TABLE_NAME: table.name, ...dispatchEnv },
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
      link: [tableLink],
      // Updates links and host items, erases the credentials of links it ends (BatchWriteItem),
      // deletes the stopped host's item and the logout requests it settles; never creates one.
      permissions: tableCalls('GetItem', 'Query', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'),
      // A stopped host's links are handed to live warm hosts (a write to their HOST# items; no RunTask).
      environment: { TABLE_NAME: table.name, ...dispatchEnv },
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

    // ---- Webhooks: the table's stream subscriber records each link change's events and hands the
    // links with deliveries to make to WebhookDeliver (an asynchronous Invoke), without waiting: a
    // stream's shard is served one batch at a time, so a slow receiver must not hold it. WebhookDeliver
    // makes the first attempts; a one-minute Cron makes the retries. Deliveries go to the public
    // internet from Lambda's own network (no VPC); non-public addresses are refused in code. Both
    // sign with the tenants' secrets (created at delivery when a tenant never read theirs).
    const webhookFunction = {
      runtime: 'nodejs22.x' as const,
      architecture: 'arm64' as const,
      memory: '256 MB' as const,
      // A run starts no attempt after 40 s (DEFAULT_BUDGET_MS); one attempt takes at most 10 s.
      timeout: '60 seconds' as const,
      link: [tableLink, dataKey],
      // Events and queue items are put and updated, never deleted (TTL removes them), never in batches.
      permissions: [...tableCalls('GetItem', 'Query', 'PutItem', 'UpdateItem'), secretKeyCalls(['kms:GenerateDataKey', 'kms:Decrypt'])],
      environment: { TABLE_NAME: table.name, KMS_KEY_ID: kmsKey.arn },
    }
    const webhookDeliver = new sst.aws.Function('WebhookDeliver', { ...shipped('webhookDeliver'), ...webhookFunction })
    // No async retries by Lambda: the handler does not throw, and whatever an invocation leaves
    // undelivered (a receiver down, the budget spent, an invocation lost) is already recorded and due,
    // so the WebhookRetry Cron serves it within a minute, in order and under the same leases. A
    // Lambda retry (or an event kept for hours while throttled) would only repeat that work late.
    new aws.lambda.FunctionEventInvokeConfig('WebhookDeliverInvokeConfig', {
      functionName: webhookDeliver.name,
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: 60,
    })
    table.subscribe(
      'WebhookStream',
      {
        ...shipped('webhookStream'),
        ...webhookFunction,
        // Records a batch's events (a few writes per record) and invokes WebhookDeliver: no deliveries,
        // no key, no secrets.
        timeout: '30 seconds',
        link: [tableLink],
        permissions: [...tableCalls('PutItem', 'UpdateItem'), { actions: ['lambda:InvokeFunction'], resources: [webhookDeliver.arn] }],
        environment: { TABLE_NAME: table.name, WEBHOOK_DELIVER_FUNCTION: webhookDeliver.arn },
      },
      {
        // Only records that can make an event (a link's item) or ask for one now (a redelivery).
        filters: [{ dynamodb: { Keys: { sk: { S: ['LINK'] } } } }, { dynamodb: { Keys: { sk: { S: ['QUEUE'] } }, NewImage: { kick: { S: [{ exists: true }] } } } }],
      },
    )
    new sst.aws.CronV2('WebhookRetry', {
      schedule: 'rate(1 minute)',
      function: { ...shipped('webhookRetry'), ...webhookFunction },
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
