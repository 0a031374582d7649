/**
 * Tenant API keys: `npm run keys -- create --tenant <name> | list | revoke <keyId>`.
 * Targets DynamoDB Local at DYNAMODB_ENDPOINT (default http://127.0.0.1:8000, what `npm start`
 * runs), or a deployed table when TABLE_NAME is set without DYNAMODB_ENDPOINT (AWS credentials
 * and region from the usual AWS environment).
 */
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { ApiKeyStore } from '@wa-link-broker/core/auth'
import { envInt, parseEnv, resolveRuntimeConfig, storeEnvShape } from '@wa-link-broker/core/config'
import { createDocumentClient } from '@wa-link-broker/core/store'

const USAGE = 'usage: npm run keys -- create --tenant <name> | list | revoke <keyId>'

/** The CLI's environment: where the table is, and the port of `npm start`'s DynamoDB Local. */
const keysEnvSchema = z.object({ ...storeEnvShape, DYNAMODB_PORT: envInt(8000, { min: 1, max: 65535 }) })

export async function runKeysCli(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { tenant: { type: 'string' } } })
  const parsed = parseEnv(keysEnvSchema, env)
  const deployed = !parsed.DYNAMODB_ENDPOINT && !!parsed.TABLE_NAME
  const config = resolveRuntimeConfig({ ...parsed, DYNAMODB_ENDPOINT: deployed ? undefined : (parsed.DYNAMODB_ENDPOINT ?? `http://127.0.0.1:${parsed.DYNAMODB_PORT}`) })
  const keys = new ApiKeyStore(createDocumentClient(config), config.tableName)
  const [command, arg] = positionals
  switch (command) {
    case 'create': {
      if (!values.tenant) throw new Error(`--tenant is required\n${USAGE}`)
      const { key, record } = await keys.create(values.tenant)
      out(`Created key ${record.keyId} for tenant "${record.tenantId}" in ${config.dynamodbEndpoint ?? 'AWS'} table ${config.tableName}.`)
      out('It is shown this once; store it now:')
      out(key)
      return 0
    }
    case 'list': {
      for (const r of await keys.list()) out(`${r.keyId}  tenant=${r.tenantId}  created=${r.createdAt}${r.revokedAt ? `  revoked=${r.revokedAt}` : ''}`)
      return 0
    }
    case 'revoke': {
      if (!arg) throw new Error(`revoke needs a key id\n${USAGE}`)
      const revoked = await keys.revoke(arg)
      out(revoked ? `Revoked ${arg}.` : `No active key ${arg}.`)
      return revoked ? 0 : 1
    }
    default:
      throw new Error(USAGE)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runKeysCli(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`${(error as Error).message}\n`)
      process.exit(2)
    },
  )
}
