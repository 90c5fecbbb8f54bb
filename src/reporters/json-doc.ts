/** The frame of every JSON document (a module of its own: the insight reporters share it without a cycle). */

/** JSON documents' schema version: bumped only on incompatible changes; fields may be added within it. */
export const JSON_SCHEMA_VERSION = 1;

/** A document: the schema version, the report's fields, and every warning of the run (also printed on stderr). */
export function doc(o: Record<string, unknown>, warnings: readonly string[] = []): string {
  const own = (o.warnings as string[] | undefined) ?? [];
  return JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, ...o, warnings: [...new Set([...warnings, ...own])] }, null, 2) + '\n';
}
