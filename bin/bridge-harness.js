#!/usr/bin/env node
// bridge-harness CLI entry point. Node >= 22 runs the TypeScript sources directly (type stripping).
import "../src/cli/main.ts";
