// Composes subgraph SDL files into a federation v2 supergraph with The Guild's composition
// library (Hive's schema registry composes with it), as a supergraph's CI would: exit 0 and
// the supergraph SDL on stdout when they compose, else print composition's errors and exit 1
// (2 when a file cannot be read or parsed).
//
//   node compose.mjs returns=../../schema.federation.graphql helpdesk=helpdesk.graphql
//
// Each subgraph's routing URL (what the supergraph tells the router to call) follows its file
// after another `=`: `returns=schema.federation.graphql=http://returns-gateway:4000/graphql`.
// Without one it is a placeholder, `http://NAME.invalid/graphql`.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";

const args = process.argv.slice(2);
const usage = "usage: node compose.mjs NAME=SDL_FILE[=ROUTING_URL] NAME=SDL_FILE[=ROUTING_URL] ...";
const services = args.map((arg) => {
  const [name, path, ...url] = arg.split("=");
  if (!name || !path) {
    console.error(usage);
    process.exit(2);
  }
  let typeDefs;
  try {
    typeDefs = parse(readFileSync(path, "utf8"));
  } catch (error) {
    // Exit 2, not 1: nothing was composed.
    console.error(`${path}: ${error.message}`);
    process.exit(2);
  }
  return {
    name,
    typeDefs,
    // Composition records each subgraph's URL in the supergraph; nothing is fetched.
    url: url.length > 0 ? url.join("=") : `http://${name}.invalid/graphql`,
  };
});
if (services.length < 2) {
  console.error(`${usage}\n(two subgraphs at least)`);
  process.exit(2);
}

const result = composeServices(services);
if (compositionHasErrors(result)) {
  console.error(`composition failed (${result.errors.length} errors):`);
  for (const error of result.errors) {
    const code = error.extensions?.code ? `[${error.extensions.code}] ` : "";
    console.error(`  ${code}${error.message}`);
  }
  process.exit(1);
}
process.stdout.write(result.supergraphSdl);
