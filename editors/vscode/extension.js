// Starts `bsic lsp` for the KDL files of the workspace and stops it with the extension.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("bsic").get("path", "bsic");
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "bsic",
    "bsic",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "kdl" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
