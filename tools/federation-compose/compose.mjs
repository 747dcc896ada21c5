// Composes subgraph SDL files into a federation v2 supergraph with The Guild's composition
// library (what Hive Gateway and Hive's registry use), as a supergraph's CI would: exit 0 and
// the supergraph SDL on stdout when they compose, else print composition's errors and exit 1.
//
//   node compose.mjs returns=../../schema.federation.graphql helpdesk=helpdesk.graphql
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";

const args = process.argv.slice(2);
const services = args.map((arg) => {
  const [name, path] = arg.split("=", 2);
  if (!name || !path) {
    console.error("usage: node compose.mjs NAME=SDL_FILE [NAME=SDL_FILE ...]");
    process.exit(2);
  }
  return {
    name,
    typeDefs: parse(readFileSync(path, "utf8")),
    // Composition records each subgraph's URL in the supergraph; nothing is fetched.
    url: `http://${name}.invalid/graphql`,
  };
});
if (services.length < 2) {
  console.error("usage: node compose.mjs NAME=SDL_FILE NAME=SDL_FILE [...]: two subgraphs at least");
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
