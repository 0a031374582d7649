/**
 * Whether a parsed JSON value nests deeper than `max` levels (an object or array is one level).
 * Iterative, so a hostile 5,000-level value cannot overflow the stack the way a recursive walk
 * (or `JSON.stringify`) would; it stops at the first path that goes too deep.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (current === null || typeof current !== 'object') continue
    if (depth + 1 > max) return true
    for (const child of Object.values(current)) stack.push([child, depth + 1])
  }
  return false
}
