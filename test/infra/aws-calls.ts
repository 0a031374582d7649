/**
 * Which AWS API calls a shipped entry point can make, read from the code its bundle contains, as the
 * IAM actions they need. The IAM test compares these with each role's grants, both ways.
 *
 * 1. esbuild's metafile of the shipped bundle says which of our source files it contains.
 * 2. TypeScript's checker walks the code reachable from the entry file, within those files: the
 *    top-level code of each file (it runs on import), and every function, method, constructor and
 *    class that reachable code references, resolved through imports. A method called through one of
 *    our interfaces (`launcher.launch`) reaches that method of every reachable class. So a method
 *    that is bundled but never called (the API bundles HostRegistry, never its `remove`) needs no
 *    grant, and one called through any path does.
 * 3. In reachable code: `new XCommand()` and `paginateX()` from an `@aws-sdk/*` package are calls.
 *    A transaction needs the item-level action of each kind of item written in it (IAM has no
 *    TransactWriteItems action): `Put`, `Update`, `Delete`, `ConditionCheck` keys in reachable code.
 * 4. Each call's command must be in the bundle (metafile), so nothing is claimed that does not ship.
 *
 * Over-approximations, on purpose (a missing grant breaks production; an extra one is what the
 * test exists to catch, and these err towards the grant): any reference counts as a call, callbacks
 * written inline count where they are written, and type information decides nothing else.
 */
import { realpathSync } from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import type { Metafile } from 'esbuild'
import ts from 'typescript'

/** The IAM service prefix of each SDK package our code may call. */
const PACKAGE_PREFIX: Record<string, string> = {
  '@aws-sdk/lib-dynamodb': 'dynamodb',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-dynamodb-streams': 'dynamodb',
  '@aws-sdk/client-kms': 'kms',
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-lambda': 'lambda',
}

/** Commands whose IAM action is not their operation's name. */
const ACTION_OF: Record<string, string> = {
  // lib-dynamodb's document commands send the low-level operation of another name.
  '@aws-sdk/lib-dynamodb GetCommand': 'GetItem',
  '@aws-sdk/lib-dynamodb PutCommand': 'PutItem',
  '@aws-sdk/lib-dynamodb UpdateCommand': 'UpdateItem',
  '@aws-sdk/lib-dynamodb DeleteCommand': 'DeleteItem',
  '@aws-sdk/lib-dynamodb BatchGetCommand': 'BatchGetItem',
  '@aws-sdk/lib-dynamodb BatchWriteCommand': 'BatchWriteItem',
  '@aws-sdk/client-lambda InvokeCommand': 'InvokeFunction',
}

/** Transactions are authorised item by item (there is no dynamodb:TransactWriteItems action). */
const TRANSACTIONS = new Set(['@aws-sdk/lib-dynamodb TransactWriteCommand', '@aws-sdk/client-dynamodb TransactWriteItemsCommand'])
const TRANSACT_ITEM_ACTION: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' }

/** Calls that need another action besides their own: RunTask with a task role passes that role. */
const IMPLIED: Record<string, string[]> = { 'ecs:RunTask': ['iam:PassRole'] }

export interface AwsCalls {
  /** IAM action → where the code makes it (`file:line (via)`), sorted by action. */
  actions: Record<string, string[]>
  /** SDK commands found: `package Command`, for the bundle cross-check. */
  commands: string[]
}

const ROOT = resolve(import.meta.dirname, '../..')
let cachedProgram: ts.Program | undefined

/** One program over the repo's tsconfig (every entry point is in it). */
export function repoProgram(): ts.Program {
  if (cachedProgram) return cachedProgram
  const configFile = join(ROOT, 'tsconfig.json')
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configFile, ts.sys.readFile).config, ts.sys, ROOT)
  cachedProgram = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options })
  return cachedProgram
}

/** Our source files (not node_modules) with code in a bundle, as real paths. */
/** A bundle's JavaScript output in its metafile (a linked source map is an output of its own). */
const jsOutput = (metafile: Metafile) => Object.entries(metafile.outputs).find(([file]) => !file.endsWith('.map'))![1]

export function bundledSources(metafile: Metafile, cwd = process.cwd()): Set<string> {
  const output = jsOutput(metafile)
  return new Set(
    Object.entries(output.inputs)
      .filter(([path, input]) => input.bytesInOutput > 0 && !path.includes('node_modules/') && /\.[cm]?ts$/.test(path))
      .map(([path]) => realpathSync(resolve(cwd, path))),
  )
}

/** The SDK command modules a bundle contains (`package Command`), from its metafile. */
export function bundledCommands(metafile: Metafile): Set<string> {
  const output = jsOutput(metafile)
  const found = new Set<string>()
  for (const [path, input] of Object.entries(output.inputs)) {
    const m = /node_modules\/(@aws-sdk\/[^/]+)\/dist-[a-z]+\/commands\/(\w+Command)\.js$/.exec(path)
    if (m && input.bytesInOutput > 0) found.add(`${m[1]} ${m[2]}`)
  }
  return found
}

export interface AwsCallsOptions {
  /** The entry's exports the runtime calls (a Lambda's handler; none for a process like the worker). */
  handlers?: string[]
  /** Each place also says how the entry reaches it (`method (file:line) ← caller (…) ← …`). */
  explain?: boolean
  program?: ts.Program
}

export function awsCallsOf(entry: string, files: Set<string>, options: AwsCallsOptions = {}): AwsCalls {
  const { program = repoProgram(), explain = false, handlers = ['handler'] } = options
  const checker = program.getTypeChecker()
  const entryFile = realpathSync(resolve(ROOT, entry))
  if (!files.has(entryFile)) throw new Error(`${entry} is not among the bundle's sources`)
  const inBundle = (node: ts.Node) => files.has(realpath(node.getSourceFile().fileName))
  const isOurs = (node: ts.Node) => !/[\\/]node_modules[\\/]/.test(realpath(node.getSourceFile().fileName)) && !node.getSourceFile().isDeclarationFile

  /** Each reachable declaration → where it was first referenced (for `chain`). */
  const live = new Map<ts.Node, ts.Node | undefined>()
  const queue: ts.Node[] = []
  const liveClasses = new Set<ts.ClassLikeDeclaration>()
  /** Names of our interfaces' methods that reachable code calls. */
  const interfaceCalls = new Set<string>()
  const commands = new Map<string, string[]>()
  const transactItems = new Map<string, string[]>()

  const where = (node: ts.Node) => {
    const sf = node.getSourceFile()
    return `${sf.fileName.replace(`${ROOT}${sep}`, '')}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`
  }
  const found = (node: ts.Node) => (explain ? `${where(node)} in ${chain(node)}` : where(node))
  const add = (map: Map<string, string[]>, key: string, at: string) => map.set(key, [...new Set([...(map.get(key) ?? []), at])])

  let referrer: ts.Node | undefined
  const enliven = (decl: ts.Node) => {
    if (live.has(decl) || !inBundle(decl)) return
    live.set(decl, referrer)
    queue.push(decl)
  }
  /** How reachable code got to `node`: the references that led there, innermost first. */
  const chain = (node: ts.Node): string => {
    const steps: string[] = []
    const seen = new Set<ts.Node>()
    for (let at: ts.Node | undefined = node; at; ) {
      const decl = enclosing(at)
      if (!decl) {
        steps.push(`top level (${where(at)})`)
        break
      }
      if (seen.has(decl)) break
      seen.add(decl)
      steps.push(`${nameOf(decl)} (${where(decl)})`)
      at = live.get(decl)
    }
    return steps.join(' ← ')
  }
  const enclosing = (node: ts.Node): ts.Node | undefined => {
    for (let n: ts.Node | undefined = node; n; n = n.parent) if (live.has(n)) return n
    return undefined
  }

  /** A method of a reachable class is reachable when our code calls that name through an interface. */
  const enlivenInterfaceMethods = () => {
    for (const cls of liveClasses) {
      for (const member of cls.members) {
        if ((ts.isMethodDeclaration(member) || ts.isPropertyDeclaration(member)) && member.name && interfaceCalls.has(member.name.getText())) enliven(member)
      }
    }
  }

  const resolveSymbol = (node: ts.Node): ts.Symbol | undefined => {
    let symbol = ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node
      ? checker.getShorthandAssignmentValueSymbol(node.parent)
      : checker.getSymbolAtLocation(node)
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol)
    return symbol
  }

  const sdkOrigin = (symbol: ts.Symbol | undefined): string | undefined => {
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName
    const m = file && /node_modules\/(@aws-sdk\/[^/]+)\//.exec(file.replaceAll('\\', '/'))
    return m ? m[1] : undefined
  }

  const onReference = (node: ts.Identifier) => {
    const symbol = resolveSymbol(node)
    referrer = node
    for (const decl of symbol?.declarations ?? []) {
      if (ts.isMethodSignature(decl) || ts.isPropertySignature(decl)) {
        // Our own interfaces only (a file of types has no bytes in a bundle): a call through the DOM's,
        // Node's or a library's types reaches none of our classes.
        if (isOurs(decl) && !interfaceCalls.has(symbol!.name)) {
          interfaceCalls.add(symbol!.name)
          enlivenInterfaceMethods()
        }
      } else if (
        ts.isFunctionDeclaration(decl) || ts.isMethodDeclaration(decl) || ts.isConstructorDeclaration(decl) || ts.isGetAccessor(decl) ||
        ts.isSetAccessor(decl) || ts.isPropertyDeclaration(decl) || ts.isClassDeclaration(decl) || isDeferredFunctionValue(decl)
      ) {
        enliven(decl)
      }
    }
  }

  const onCall = (node: ts.NewExpression | ts.CallExpression) => {
    const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression
    const symbol = resolveSymbol(callee)
    const pkg = sdkOrigin(symbol)
    if (!pkg || !symbol) return
    if (ts.isNewExpression(node) && symbol.name.endsWith('Command')) add(commands, `${pkg} ${symbol.name}`, found(node))
    else if (ts.isCallExpression(node) && /^paginate[A-Z]/.test(symbol.name)) add(commands, `${pkg} ${symbol.name.slice('paginate'.length)}Command`, found(node))
  }

  /** Walks reachable code; declarations inside it wait until something references them. */
  const scan = (root: ts.Node) => {
    const visit = (node: ts.Node): void => {
      if (node !== root && isDeferred(node)) return
      if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return
      if (ts.isIdentifier(node)) onReference(node)
      else if (ts.isNewExpression(node) || ts.isCallExpression(node)) onCall(node)
      else if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text in TRANSACT_ITEM_ACTION) add(transactItems, node.name.text, found(node))
      ts.forEachChild(node, visit)
    }
    visit(root)
  }

  const enter = (decl: ts.Node) => {
    if (ts.isClassDeclaration(decl) || ts.isClassExpression(decl)) {
      liveClasses.add(decl)
      for (const clause of decl.heritageClauses ?? []) scan(clause)
      for (const member of decl.members) {
        if (ts.isConstructorDeclaration(member) || ts.isClassStaticBlockDeclaration(member) || (ts.isPropertyDeclaration(member) && member.initializer)) enliven(member)
      }
      enlivenInterfaceMethods()
    } else if (ts.isVariableDeclaration(decl) || ts.isPropertyDeclaration(decl)) {
      if (decl.initializer) scan(decl.initializer)
    } else {
      scan(decl)
    }
  }

  // The top-level code of every bundled file runs when it is imported; its declarations wait.
  for (const file of program.getSourceFiles()) {
    if (!files.has(realpath(file.fileName))) continue
    for (const statement of file.statements) {
      if (ts.isVariableStatement(statement)) {
        for (const decl of statement.declarationList.declarations) if (decl.initializer && !isFunctionValue(decl.initializer)) scan(decl.initializer)
      } else if (!isDeferred(statement)) {
        scan(statement)
      }
    }
  }
  // What the runtime calls: the entry file's handler export (a Lambda's `handler`).
  referrer = undefined
  const entrySource = program.getSourceFiles().find((f) => realpath(f.fileName) === entryFile)
  if (!entrySource) throw new Error(`${entry} is not in the TypeScript program`)
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(entrySource)!)) {
    if (!handlers.includes(exported.name)) continue
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    for (const decl of symbol.declarations ?? []) enliven(decl)
  }
  while (queue.length > 0) enter(queue.shift()!)

  const actions: Record<string, string[]> = {}
  const grant = (action: string, at: string[]) => (actions[action] = [...new Set([...(actions[action] ?? []), ...at])])
  for (const [command, at] of commands) {
    const [pkg, name] = command.split(' ')
    const prefix = PACKAGE_PREFIX[pkg]
    if (!prefix) throw new Error(`${command} (${at[0]}): add ${pkg}'s IAM service prefix to PACKAGE_PREFIX`)
    if (TRANSACTIONS.has(command)) {
      if (transactItems.size === 0) throw new Error(`${command} (${at[0]}): no Put/Update/Delete/ConditionCheck item found in reachable code`)
      for (const [kind, itemAt] of transactItems) grant(`dynamodb:${TRANSACT_ITEM_ACTION[kind]}`, itemAt.map((w) => `${w} (in a transaction)`))
      continue
    }
    const action = `${prefix}:${ACTION_OF[command] ?? name.replace(/Command$/, '')}`
    grant(action, at)
    for (const implied of IMPLIED[action] ?? []) grant(implied, at.map((w) => `${w} (with ${action})`))
  }
  return {
    actions: Object.fromEntries(Object.entries(actions).sort(([a], [b]) => a.localeCompare(b))),
    commands: [...commands.keys()].sort(),
  }
}

/**
 * Code that runs only when something references it: declared functions and classes, and class
 * members. An object literal's methods are values written in place, like any inline callback.
 */
function isDeferred(node: ts.Node): boolean {
  if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) return ts.isClassLike(node.parent)
  return ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isPropertyDeclaration(node) || ts.isClassStaticBlockDeclaration(node)
}

function nameOf(node: ts.Node): string {
  const name = (node as { name?: ts.Node }).name
  if (name && ts.isIdentifier(name)) {
    const cls = ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : ''
    return `${cls}${name.text}`
  }
  return ts.isConstructorDeclaration(node) && ts.isClassLike(node.parent) ? `new ${node.parent.name?.text ?? '(class)'}` : ts.SyntaxKind[node.kind]
}

/** A top-level `const f = () => …`: a function that runs only when referenced (other initializers run in place). */
const isDeferredFunctionValue = (decl: ts.Declaration): decl is ts.VariableDeclaration =>
  ts.isVariableDeclaration(decl) && !!decl.initializer && isFunctionValue(decl.initializer) && ts.isSourceFile(decl.parent.parent.parent)

const isFunctionValue = (node: ts.Expression) => ts.isArrowFunction(node) || ts.isFunctionExpression(node)

const realpaths = new Map<string, string>()
function realpath(file: string): string {
  let r = realpaths.get(file)
  if (r === undefined) {
    try {
      r = realpathSync(file)
    } catch {
      r = resolve(dirname(file), file)
    }
    realpaths.set(file, r)
  }
  return r
}
