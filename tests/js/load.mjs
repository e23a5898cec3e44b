// Reads an Automerge document (save() bytes) from the file named on the
// command line with the JavaScript Automerge library and prints it as JSON.
import { readFileSync } from "node:fs";
import * as Automerge from "@automerge/automerge";

const bytes = readFileSync(process.argv[2]);
const doc = Automerge.load(new Uint8Array(bytes));
process.stdout.write(
  JSON.stringify(doc, (_key, value) => (typeof value === "bigint" ? Number(value) : value)),
);
