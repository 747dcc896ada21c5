// Compares the schema a running gateway serves (its introspection) with an SDL file, through
// graphql-js: the tool clients use to read both. Exit 0 when they are the same schema (types,
// fields, arguments, descriptions, deprecations, `@specifiedBy`, `@oneOf`, directives), else
// print what differs and exit 1.
//
//   node compare.mjs http://127.0.0.1:4000/graphql ../../schema.graphql
import { readFileSync } from "node:fs";
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
} from "graphql";

const [url, sdlPath] = process.argv.slice(2);
if (!url || !sdlPath) {
  console.error("usage: node compare.mjs GRAPHQL_URL SDL_FILE");
  process.exit(2);
}

// Everything introspection can say (graphql-js 16's options), so that nothing goes unchecked.
const query = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});
const response = await fetch(url, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ query }),
});
const answer = await response.json();
if (!response.ok || answer.errors || !answer.data) {
  console.error(`introspection failed (HTTP ${response.status}): ${JSON.stringify(answer)}`);
  process.exit(1);
}

const served = lexicographicSortSchema(buildClientSchema(answer.data));
const file = lexicographicSortSchema(buildSchema(readFileSync(sdlPath, "utf8")));

// printSchema leaves out the directives the spec defines; list every directive as well, so an
// extra or missing one (e.g. `@oneOf`) shows. buildSchema adds the specified ones an SDL omits.
const directives = (schema) =>
  schema
    .getDirectives()
    .map(
      (d) =>
        `directive @${d.name}(${d.args.map((a) => `${a.name}: ${a.type}`).join(", ")})` +
        `${d.isRepeatable ? " repeatable" : ""} on ${[...d.locations].sort().join(" | ")}`,
    )
    .sort()
    .join("\n");
const describe = (schema) => `${printSchema(schema)}\n\n# directives\n${directives(schema)}\n`;

const left = describe(served).split("\n");
const right = describe(file).split("\n");
if (left.join("\n") === right.join("\n")) {
  process.exit(0);
}
const onlyServed = left.filter((line) => !right.includes(line));
const onlyFile = right.filter((line) => !left.includes(line));
console.error(`the served schema differs from ${sdlPath}:`);
for (const line of onlyServed) console.error(`  served only: ${line}`);
for (const line of onlyFile) console.error(`  file only:   ${line}`);
if (onlyServed.length === 0 && onlyFile.length === 0) {
  console.error("  (the same lines in another order or number)");
}
process.exit(1);
