//! `bsic lsp`: a Language Server on stdio, built on the same pipeline as `bsic check`.
//!
//! In: LSP messages (framed by `transport`, which answers bad frames and reads on). Out:
//! diagnostics for every project file, hovers, completions, definitions, quick fixes and
//! formatting (what `bsic fmt` writes).
//! Every change re-runs [`pipeline::check_with_overlay`] with the open buffers standing in for
//! the files on disk, so the editor says exactly what `bsic check` says. Changes are debounced: the check runs
//! once no message has arrived for `DEBOUNCE` (or the client's `debounceMs`), or before
//! answering a request. The server
//! never writes files, and no input (any buffer, any request) may end it except `exit`.

mod completion;
mod context;
mod diagnostics;
mod documents;
mod formatting;
mod hover;
mod position;
mod transport;

pub use transport::{BadFrame, FrameReader, Incoming, MAX_MESSAGE_BYTES};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    References, Request as _,
};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, CompletionOptions, CompletionParams, CompletionResponse,
    Diagnostic as LspDiagnostic, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentFormattingParams, DocumentSymbol, DocumentSymbolParams,
    DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents,
    HoverParams, HoverProviderCapability, Location, MarkupContent, MarkupKind, OneOf, Position,
    PublishDiagnosticsParams, Range, ReferenceParams, ServerCapabilities, SymbolKind,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri, WorkspaceEdit,
};
use serde_json::Value;

use crate::catalog::{self, Catalog};
use crate::model::path::Field;
use crate::pipeline::{self, Checked};
use crate::source::{self, PROJECT_FILE, ParseCache};
use crate::validate::{ProjectedFile, SchemaDoc, Validators};

use context::{context_at, word_at};
use diagnostics::Batch;
use documents::{Documents, path_of, uri_of};
use position::{offset_at, range_of};

/// How long to wait after a change for the next one before re-checking, unless the client's
/// `initializationOptions` set `debounceMs`. Chosen from `bench/nvim_latency.lua` (Neovim's
/// client, 1,000 policies, 2 cores): a re-check after a keystroke takes the server a median
/// 45 ms, so checking after every key of normal typing (100 ms and more apart) is affordable,
/// and 50 ms, about one check, only folds bursts (a paste, key repeat, a completion's several
/// edits) into one. At 100 ms users waited 153 ms for each answer; at 50 ms, 100 ms.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// The debounce the client asked for (`initializationOptions.debounceMs`, at most 2 s), else
/// [`DEBOUNCE`].
fn debounce(params: &Value) -> Duration {
    params
        .get("initializationOptions")
        .and_then(|options| options.get("debounceMs"))
        .and_then(Value::as_u64)
        .map_or(DEBOUNCE, |ms| Duration::from_millis(ms.min(2_000)))
}

/// Failures that stop the server: the protocol broke down.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LspError {
    #[error("language server protocol error: {0}")]
    #[diagnostic(
        code("bsic::lsp-protocol"),
        help("`bsic lsp` talks LSP on stdin/stdout; start it from an editor's LSP client")
    )]
    Protocol(String),
}

/// Runs the server on stdin/stdout until the client sends `exit`.
pub fn run() -> Result<(), LspError> {
    let (connection, transport) =
        transport::stdio().map_err(|e| LspError::Protocol(e.to_string()))?;
    serve(&connection)?;
    drop(connection);
    transport
        .join()
        .map_err(|e| LspError::Protocol(e.to_string()))
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["\"".into(), "=".into(), " ".into()]),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// The session: initialize, then messages until shutdown and exit.
fn serve(connection: &Connection) -> Result<(), LspError> {
    let caps =
        serde_json::to_value(capabilities()).map_err(|e| LspError::Protocol(e.to_string()))?;
    let Some((id, params)) = initialize(connection) else {
        return Ok(());
    };
    let result = serde_json::json!({
        "capabilities": caps,
        "serverInfo": { "name": "bsic", "version": env!("CARGO_PKG_VERSION") },
    });
    send(connection, Message::Response(Response::new_ok(id, result)));
    let mut server = Server::new(workspace_root(&params));
    let debounce = debounce(&params);
    loop {
        let message = if server.dirty {
            match connection.receiver.recv_timeout(debounce) {
                Ok(message) => message,
                Err(e) if e.is_timeout() => {
                    server.recheck(connection);
                    continue;
                }
                Err(_) => return Ok(()),
            }
        } else {
            match connection.receiver.recv() {
                Ok(message) => message,
                Err(_) => return Ok(()),
            }
        };
        match message {
            Message::Request(request) => {
                if request.method == "shutdown" {
                    send(
                        connection,
                        Message::Response(Response::new_ok(request.id, ())),
                    );
                    shut_down(connection);
                    return Ok(());
                }
                if server.dirty {
                    server.recheck(connection);
                }
                let id = request.id.clone();
                let response = catch_unwind(AssertUnwindSafe(|| server.request(request)))
                    .unwrap_or_else(|_| {
                        Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            "bsic lsp failed on this request".into(),
                        )
                    });
                send(connection, Message::Response(response));
            }
            Message::Notification(notification) if notification.method == transport::MALFORMED => {
                answer_malformed(connection, notification);
            }
            Message::Notification(notification) => {
                let _ = catch_unwind(AssertUnwindSafe(|| server.notification(notification)));
            }
            Message::Response(_) => {}
        }
    }
}

/// Waits for `initialize` and returns its id and params; `None` when the client exits or
/// disconnects first. Not `Connection::initialize_start`: it ends the session on a response
/// or on `exit`, and drops the bad-frame notices this server must answer.
fn initialize(connection: &Connection) -> Option<(lsp_server::RequestId, Value)> {
    for message in &connection.receiver {
        match message {
            Message::Request(request) if request.method == "initialize" => {
                return Some((request.id, request.params));
            }
            Message::Request(request) => send(
                connection,
                Message::Response(Response::new_err(
                    request.id,
                    ErrorCode::ServerNotInitialized as i32,
                    "bsic lsp expects `initialize` first".into(),
                )),
            ),
            Message::Notification(n) if n.method == transport::MALFORMED => {
                answer_malformed(connection, n);
            }
            Message::Notification(n) if n.method == "exit" => return None,
            Message::Notification(_) | Message::Response(_) => {}
        }
    }
    None
}

/// After `shutdown`: waits for `exit` (or the end of input), answering requests with an
/// error as LSP asks. Not `Connection::handle_shutdown`: it ends with an error on any other
/// message, a bad frame included.
fn shut_down(connection: &Connection) {
    for message in &connection.receiver {
        match message {
            Message::Notification(n) if n.method == "exit" => return,
            Message::Notification(n) if n.method == transport::MALFORMED => {
                answer_malformed(connection, n);
            }
            Message::Request(request) => send(
                connection,
                Message::Response(Response::new_err(
                    request.id,
                    ErrorCode::InvalidRequest as i32,
                    "bsic lsp is shutting down".into(),
                )),
            ),
            Message::Notification(_) | Message::Response(_) => {}
        }
    }
}

/// Answers a frame the transport could not read: its JSON-RPC error to the client (the
/// writer sends the notice's params as they are), and a line in the client's log, since
/// editors show nothing for a response with a `null` id.
fn answer_malformed(connection: &Connection, notice: Notification) {
    let what = notice.params["error"]["message"]
        .as_str()
        .unwrap_or("a message was malformed")
        .to_string();
    send(connection, Message::Notification(notice));
    let params = serde_json::json!({ "type": 1, "message": what });
    send(
        connection,
        Message::Notification(Notification::new("window/logMessage".into(), params)),
    );
}

fn send(connection: &Connection, message: Message) {
    let _ = connection.sender.send(message);
}

/// The workspace root the client names, as a directory path.
fn workspace_root(params: &Value) -> Option<PathBuf> {
    let uri = params
        .get("workspaceFolders")
        .and_then(|f| f.get(0))
        .and_then(|f| f.get("uri"))
        .or_else(|| params.get("rootUri"))
        .and_then(Value::as_str);
    if let Some(uri) = uri {
        return url::Url::parse(uri).ok()?.to_file_path().ok();
    }
    params
        .get("rootPath")
        .and_then(Value::as_str)
        .map(PathBuf::from)
}

struct Server {
    workspace: Option<PathBuf>,
    documents: Documents,
    /// The last check of the project.
    checked: Option<Checked>,
    /// URIs that were last published with diagnostics.
    published: BTreeSet<String>,
    dirty: bool,
    /// The schemas (compiled into bsic): checked against on every re-check, read for hover
    /// and completion.
    validators: Validators,
    /// Parsed files by path and text: a keystroke re-parses only the buffer that changed.
    parses: ParseCache<ProjectedFile>,
    /// The pinned build catalog as last loaded for completion (`None` when it did not load),
    /// kept while its path, pinned hash and file stamp stay the same.
    catalog: Option<(CatalogKey, Option<Catalog>)>,
}

/// What a loaded catalog is valid for: the file, its pinned sha256, and the file's size and
/// modification time when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CatalogKey {
    path: PathBuf,
    sha256: String,
    len: u64,
    modified: Option<SystemTime>,
}

impl Server {
    fn new(workspace: Option<PathBuf>) -> Self {
        Self {
            workspace,
            documents: Documents::default(),
            checked: None,
            published: BTreeSet::new(),
            dirty: false,
            validators: Validators::new(),
            parses: ParseCache::default(),
            catalog: None,
        }
    }

    /// The build catalog pinned in the last checked `bsic.kdl`, if it loads (read from disk
    /// again only when the pin or the file changed). Never fails: a missing, altered or
    /// malformed snapshot is `None`, and `bsic check`'s diagnostic says why.
    fn catalog(&mut self) -> Option<&Catalog> {
        let checked = self.checked.as_ref()?;
        let pin = checked.model.as_ref()?.project.catalog.clone()?;
        let root = checked.project.root.clone();
        let path = root.join(&pin.path);
        let Ok(meta) = std::fs::metadata(&path) else {
            self.catalog = None;
            return None;
        };
        let key = CatalogKey {
            path,
            sha256: pin.sha256.clone(),
            len: meta.len(),
            modified: meta.modified().ok(),
        };
        if self.catalog.as_ref().map(|(k, _)| k) != Some(&key) {
            self.catalog = Some((key, catalog::load(&root, &pin).ok()));
        }
        self.catalog.as_ref()?.1.as_ref()
    }

    /// The project root: the workspace's if it holds `bsic.kdl`, else the nearest one above an
    /// open document.
    fn root(&self) -> Option<PathBuf> {
        if let Some(ws) = &self.workspace
            && ws.join(PROJECT_FILE).is_file()
        {
            return source::find_project_root(ws).ok();
        }
        self.documents
            .iter()
            .filter_map(|d| d.path.as_deref()?.parent())
            .find_map(|dir| source::find_project_root(dir).ok())
            .or_else(|| source::find_project_root(self.workspace.as_deref()?).ok())
    }

    fn notification(&mut self, notification: Notification) {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<DidOpenTextDocumentParams>(notification.params)
                {
                    self.documents
                        .open(p.text_document.uri, p.text_document.text);
                    self.dirty = true;
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<DidChangeTextDocumentParams>(notification.params)
                {
                    self.documents
                        .change(&p.text_document.uri, p.content_changes);
                    self.dirty = true;
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<DidCloseTextDocumentParams>(notification.params)
                {
                    self.documents.close(&p.text_document.uri);
                    self.dirty = true;
                }
            }
            DidSaveTextDocument::METHOD => self.dirty = true,
            _ => {}
        }
    }

    /// Re-checks the project with the open buffers and publishes every file's diagnostics.
    fn recheck(&mut self, connection: &Connection) {
        self.dirty = false;
        let Some(root) = self.root() else {
            return;
        };
        let overlay = self.documents.overlay();
        // The previous check (a tree of every file's model and spans) is freed on the pool
        // while this one runs: it describes text that has changed, and holding both put a
        // 10,000-policy project at twice the memory of one check.
        if let Some(previous) = self.checked.take() {
            crate::parallel::drop_later(vec![previous], 0);
        }
        let checked = catch_unwind(AssertUnwindSafe(|| {
            pipeline::check_with(&root, &overlay, &self.validators, Some(&self.parses))
        }));
        let checked = match checked {
            Ok(checked) => checked,
            Err(_) => return,
        };
        let mut files: BTreeMap<String, (Uri, Batch<'_>)> = BTreeMap::new();
        match &checked {
            Ok(checked) => files = diagnostics::by_file(checked),
            Err(error) => {
                // The check could not run (e.g. an unreadable file): say so on every open file.
                let message = error.to_string();
                for document in self.documents.iter() {
                    let diagnostic = LspDiagnostic {
                        range: Range::default(),
                        severity: Some(lsp_types::DiagnosticSeverity::ERROR),
                        source: Some(diagnostics::SOURCE.into()),
                        message: message.clone(),
                        ..LspDiagnostic::default()
                    };
                    files.insert(
                        document.uri.as_str().to_string(),
                        (document.uri.clone(), Batch::Ready(vec![diagnostic])),
                    );
                }
            }
        }
        // Open documents always get a batch, and so do files that had diagnostics before.
        for document in self.documents.iter() {
            files
                .entry(document.uri.as_str().to_string())
                .or_insert_with(|| (document.uri.clone(), Batch::Ready(Vec::new())));
        }
        for stale in &self.published {
            if !files.contains_key(stale)
                && let Ok(uri) = stale.parse::<Uri>()
            {
                files.insert(stale.clone(), (uri, Batch::Ready(Vec::new())));
            }
        }
        let mut published = BTreeSet::new();
        // The open documents first, the file being typed in among them: their diagnostics
        // are the answer the user waits for, and the project's other files (a hundred on a
        // 1,000-policy project) would otherwise be converted and sent before them.
        let (open, closed): (Vec<_>, Vec<_>) = files
            .into_iter()
            .map(|(key, (uri, batch))| {
                let open = self.documents.get(&uri).is_some();
                (key, uri, batch, open)
            })
            .partition(|(.., open)| *open);
        for (key, uri, batch, open) in open.into_iter().chain(closed) {
            if batch.is_empty() && !open && !self.published.contains(&key) {
                continue;
            }
            if !batch.is_empty() {
                published.insert(key);
            }
            let params = PublishDiagnosticsParams::new(uri, batch.into_lsp(), None);
            if let Ok(params) = serde_json::to_value(params) {
                send(
                    connection,
                    Message::Notification(Notification::new(
                        PublishDiagnostics::METHOD.into(),
                        params,
                    )),
                );
            }
        }
        self.published = published;
        if let Ok(checked) = checked {
            self.checked = Some(checked);
        }
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            HoverRequest::METHOD => parse(&request).map(|p| to_value(self.hover(p))),
            Completion::METHOD => parse(&request).map(|p| to_value(self.completion(p))),
            GotoDefinition::METHOD => parse(&request).map(|p| to_value(self.definition(p))),
            References::METHOD => parse(&request).map(|p| to_value(self.references(p))),
            DocumentSymbolRequest::METHOD => parse(&request).map(|p| to_value(self.symbols(p))),
            CodeActionRequest::METHOD => parse(&request).map(|p| to_value(self.code_actions(p))),
            Formatting::METHOD => parse(&request).map(|p| to_value(self.formatting(p))),
            other => Err(Response::new_err(
                id.clone(),
                ErrorCode::MethodNotFound as i32,
                format!("bsic lsp does not handle `{other}`"),
            )),
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(mut response) => {
                response.id = id;
                response
            }
        }
    }

    /// The text of a document: the open buffer, else what the last check read.
    fn text(&self, uri: &Uri) -> Option<String> {
        if let Some(document) = self.documents.get(uri) {
            return Some(document.text.clone());
        }
        let path = path_of(uri)?;
        self.checked
            .as_ref()?
            .project
            .sources
            .iter()
            .find(|(_, f)| f.path == path)
            .map(|(_, f)| f.text.clone())
    }

    /// The schema of a document's kind: the project file or a policy file.
    fn schema_for(&self, uri: &Uri) -> &Value {
        let is_project = path_of(uri)
            .and_then(|p| p.file_name().map(|n| n == PROJECT_FILE))
            .unwrap_or(false);
        if is_project {
            self.validators.project_schema()
        } else {
            self.validators.policy_schema()
        }
    }

    fn checked(&self) -> Option<&Checked> {
        self.checked.as_ref()
    }

    fn hover(&self, params: HoverParams) -> Option<Hover> {
        let at = params.text_document_position_params;
        let text = self.text(&at.text_document.uri)?;
        let offset = offset_at(&text, at.position);
        let (start, end) = word_at(&text, offset)?;
        let word = &text[start..end];
        let cx = context_at(&text, start);
        let schema = SchemaDoc::new(self.schema_for(&at.text_document.uri));
        let markdown = if cx.in_string {
            match cx.head() {
                Some("applies-to" | "includes" | "group") => hover::group(self.checked()?, word),
                _ => None,
            }
        } else {
            let property = text[end..].starts_with('=');
            if !property && cx.head().is_some() {
                return None;
            }
            let mut names = cx.parents.clone();
            if property && let Some(head) = cx.head() {
                names.push(head.to_string());
            }
            let block = completion::pointer_of(&schema, &names)?;
            let pointer = format!("{block}/{word}");
            let path = hover::knob_path(&cx, word, property);
            hover::knob(&path, &schema, &pointer).or_else(|| hover::node(&path, &schema, &pointer))
        }?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }),
            range: Some(range_of(&text, start, end - start)),
        })
    }

    fn completion(&mut self, params: CompletionParams) -> Option<CompletionResponse> {
        let at = params.text_document_position;
        let text = self.text(&at.text_document.uri)?;
        let offset = offset_at(&text, at.position);
        let cx = context_at(&text, offset);
        let releases = self
            .catalog()
            .and_then(|catalog| completion::releases(&cx, &text, offset, catalog));
        let schema = SchemaDoc::new(self.schema_for(&at.text_document.uri));
        let mut items = completion::complete(&cx, &schema, self.checked());
        items.extend(releases.into_iter().flatten());
        Some(CompletionResponse::Array(items))
    }

    /// The group name under the cursor when it is a reference or a definition.
    fn group_at(&self, uri: &Uri, position: Position) -> Option<String> {
        let text = self.text(uri)?;
        let offset = offset_at(&text, position);
        let (start, end) = word_at(&text, offset)?;
        let cx = context_at(&text, start);
        (cx.in_string && matches!(cx.head(), Some("applies-to" | "includes" | "group")))
            .then(|| text[start..end].to_string())
    }

    fn location(&self, span: crate::source::Span) -> Option<Location> {
        let sources = &self.checked()?.project.sources;
        let file = sources.get(span.file)?;
        Some(Location::new(
            uri_of(&file.path)?,
            diagnostics::span_range(sources, span),
        ))
    }

    fn definition(&self, params: GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
        let at = params.text_document_position_params;
        let name = self.group_at(&at.text_document.uri, at.position)?;
        let model = self.checked()?.model.as_ref()?;
        let group = model
            .groups
            .iter()
            .find(|g| g.value.name.as_str() == name)?;
        let location = self.location(model.value_span(&group.at, Field::Name))?;
        Some(GotoDefinitionResponse::Scalar(location))
    }

    fn references(&self, params: ReferenceParams) -> Option<Vec<Location>> {
        let at = params.text_document_position;
        let name = self.group_at(&at.text_document.uri, at.position)?;
        let model = self.checked()?.model.as_ref()?;
        let mut found = Vec::new();
        if params.context.include_declaration
            && let Some(g) = model.groups.iter().find(|g| g.value.name.as_str() == name)
        {
            found.extend(self.location(model.value_span(&g.at, Field::Name)));
        }
        for g in &model.groups {
            for (i, included) in g.value.includes.iter().enumerate() {
                if included.as_str() == name {
                    found.extend(self.location(model.value_span(&g.at, Field::Includes(i))));
                }
            }
        }
        for p in &model.policies {
            for (i, group) in p.value.applies_to.iter().enumerate() {
                if group.as_str() == name {
                    found.extend(self.location(model.value_span(&p.at, Field::AppliesTo(i))));
                }
            }
        }
        Some(found)
    }

    fn symbols(&self, params: DocumentSymbolParams) -> Option<DocumentSymbolResponse> {
        let uri = params.text_document.uri;
        let path = path_of(&uri)?;
        let model = self.checked()?.model.as_ref()?;
        let sources = &self.checked()?.project.sources;
        let in_file = |file| sources.get(file).is_some_and(|f| f.path == path);
        let mut symbols = Vec::new();
        #[allow(deprecated)]
        let symbol = |name: String, detail: &str, kind, span| DocumentSymbol {
            name,
            detail: Some(detail.to_string()),
            kind,
            tags: None,
            deprecated: None,
            range: diagnostics::span_range(sources, span),
            selection_range: diagnostics::span_range(sources, span),
            children: None,
        };
        for g in model.groups.iter().filter(|g| in_file(g.at.file)) {
            let span = model.value_span(&g.at, Field::Name);
            symbols.push(symbol(
                g.value.name.to_string(),
                "group",
                SymbolKind::NAMESPACE,
                span,
            ));
        }
        for p in model.policies.iter().filter(|p| in_file(p.at.file)) {
            let span = model.value_span(&p.at, Field::Name);
            symbols.push(symbol(
                p.value.name.to_string(),
                "policy",
                SymbolKind::OBJECT,
                span,
            ));
        }
        Some(DocumentSymbolResponse::Nested(symbols))
    }

    /// The buffer as `bsic fmt` would write it: one whole-document edit, none when it is
    /// already canonical, `null` when it does not parse.
    fn formatting(&self, params: DocumentFormattingParams) -> Option<Vec<TextEdit>> {
        formatting::edits(&self.text(&params.text_document.uri)?)
    }

    /// A quick fix for every did-you-mean: replace the name with the suggestion.
    fn code_actions(&self, params: CodeActionParams) -> Option<Vec<CodeActionOrCommand>> {
        let uri = params.text_document.uri;
        let text = self.text(&uri)?;
        let mut actions = Vec::new();
        for diagnostic in &params.context.diagnostics {
            let Some(replace) = diagnostic
                .data
                .as_ref()
                .and_then(|d| d.get("replace"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let start = offset_at(&text, diagnostic.range.start);
            let end = offset_at(&text, diagnostic.range.end);
            let old = text.get(start..end).unwrap_or("");
            let new_text = if old.starts_with('"') {
                format!("\"{replace}\"")
            } else {
                replace.to_string()
            };
            let edit = TextEdit::new(diagnostic.range, new_text);
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("replace with `{replace}`"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }));
        }
        Some(actions)
    }
}

fn parse<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, Response> {
    serde_json::from_value(request.params.clone()).map_err(|e| {
        Response::new_err(
            request.id.clone(),
            ErrorCode::InvalidParams as i32,
            e.to_string(),
        )
    })
}

fn to_value<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
impl crate::diag::Examples for LspError {
    fn examples() -> Vec<Self> {
        let all = vec![Self::Protocol("x".into())];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::Protocol { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatting_request(server: &mut Server, uri: &str) -> Response {
        let params = serde_json::json!({
            "textDocument": { "uri": uri },
            "options": { "tabSize": 2, "insertSpaces": true },
        });
        server.request(Request::new(7.into(), Formatting::METHOD.into(), params))
    }

    #[test]
    fn formatting_a_buffer_that_does_not_parse_answers_null() {
        let mut server = Server::new(None);
        let uri = "file:///nowhere/policies/broken.kdl";
        let text = "policy \"x\" {\n  applies-to \"pilot\"\n  \u{0}}}{{\"é😀 /* ";
        server.documents.open(uri.parse().unwrap(), text.into());
        let response = formatting_request(&mut server, uri);
        assert!(response.error.is_none(), "{response:?}");
        assert_eq!(response.result, Some(Value::Null));
        // The same buffer, fixed: one edit, the canonical text.
        server.documents.change(
            &uri.parse().unwrap(),
            vec![lsp_types::TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: "policy \"x\" {\n  applies-to \"pilot\"\n}\n".into(),
            }],
        );
        let response = formatting_request(&mut server, uri);
        let edits: Vec<TextEdit> = serde_json::from_value(response.result.unwrap()).unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].new_text,
            "policy \"x\" {\n    applies-to \"pilot\"\n}\n"
        );
    }

    /// A project pinning a snapshot made from the `bsic catalog import` fixture, with the
    /// policy file `policies/p.kdl` open in a server that has checked it once.
    #[cfg(bsic_repo)]
    fn catalog_project(pin_sha: Option<&str>) -> (tempfile::TempDir, Server, Uri) {
        let feed = crate::repo::root().join("tests/fixtures/catalog/pmv.json");
        let text = std::fs::read_to_string(&feed).unwrap();
        let snapshot = Catalog::from_feed(&feed, &text, None).unwrap().to_bytes();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("catalog")).unwrap();
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        std::fs::write(dir.join("catalog/apple-releases.json"), &snapshot).unwrap();
        let sha = pin_sha.map_or_else(|| crate::emit::sha256_hex(&snapshot), String::from);
        std::fs::write(
            dir.join(PROJECT_FILE),
            format!(
                "organization \"T\"\nidentifier-prefix \"com.example.t\"\n\
                 catalog \"catalog/apple-releases.json\" sha256=\"{sha}\"\n"
            ),
        )
        .unwrap();
        let policy = "group \"kiosks\"\npolicy \"k\" {\n    applies-to \"kiosks\"\n}\n";
        std::fs::write(dir.join("policies/p.kdl"), policy).unwrap();
        let uri = documents::uri_of(&dir.join("policies/p.kdl")).unwrap();
        let mut server = Server::new(Some(dir.to_path_buf()));
        server.documents.open(uri.clone(), policy.into());
        let (connection, _client) = Connection::memory();
        server.recheck(&connection);
        assert!(server.checked.is_some());
        (tmp, server, uri)
    }

    /// The completion items at `|` in `text`, as the buffer of `uri`.
    #[cfg(bsic_repo)]
    fn complete_at(server: &mut Server, uri: &Uri, text: &str) -> Vec<lsp_types::CompletionItem> {
        let offset = text.find('|').unwrap();
        let text = text.replace('|', "");
        server.documents.change(
            uri,
            vec![lsp_types::TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: text.clone(),
            }],
        );
        let params = serde_json::json!({
            "textDocument": { "uri": uri.as_str() },
            "position": position::position_at(&text, offset),
        });
        let response = server.request(Request::new(9.into(), Completion::METHOD.into(), params));
        assert!(response.error.is_none(), "{response:?}");
        serde_json::from_value(response.result.unwrap()).unwrap()
    }

    #[cfg(bsic_repo)]
    fn policy(platforms: &str, enforce: &str) -> String {
        format!(
            "group \"kiosks\"\npolicy \"k\" {{\n    applies-to \"kiosks\"\n{platforms}    {enforce}\n}}\n"
        )
    }

    #[cfg(bsic_repo)]
    fn labels(items: &[lsp_types::CompletionItem]) -> Vec<&str> {
        items.iter().map(|i| i.label.as_str()).collect()
    }

    #[cfg(bsic_repo)]
    #[test]
    fn enforce_completes_versions_and_builds_from_the_pinned_catalog() {
        let (_tmp, mut server, uri) = catalog_project(None);
        let macos = "    platforms \"macOS\"\n";
        let by = "by=\"2027-01-15T09:00:00\"";

        // Versions, newest first, for the policy's one platform.
        let items = complete_at(
            &mut server,
            &uri,
            &policy(macos, &format!("enforce version=\"|\" {by}")),
        );
        assert_eq!(labels(&items), ["26.3.1", "26.3", "15.7.4"]);
        assert_eq!(items[0].detail.as_deref(), Some("macOS"));
        let edit = match &items[0].text_edit {
            Some(lsp_types::CompletionTextEdit::Edit(edit)) => edit,
            other => panic!("{other:?}"),
        };
        assert_eq!(edit.new_text, "26.3.1");

        // Builds: the written version's first, the BSI build with its suffix and label.
        let items = complete_at(
            &mut server,
            &uri,
            &policy(
                macos,
                &format!("enforce version=\"26.3.1\" build=\"25|\" {by}"),
            ),
        );
        assert_eq!(
            labels(&items),
            ["25D771280a", "25D2128", "25D125", "24G517"]
        );
        assert_eq!(
            items[0].detail.as_deref(),
            Some("26.3.1 (a) — Background Security Improvement")
        );
        let items = complete_at(
            &mut server,
            &uri,
            &policy(macos, &format!("enforce version=\"26.3\" build=\"|\" {by}")),
        );
        assert_eq!(labels(&items)[0], "25D125");

        // The block form; `platform` on the enforce wins over the policy's platforms.
        let block = |platform: &str, key: &str| {
            format!(
                "enforce {platform}{{\n        version \"26.3.1\"\n        {key} |\n        {by}\n    }}"
            )
        };
        let items = complete_at(&mut server, &uri, &policy(macos, &block("", "build")));
        assert_eq!(labels(&items)[..2], ["25D771280a", "25D2128"]);
        assert_eq!(
            items[0]
                .insert_text
                .as_deref()
                .or(match &items[0].text_edit {
                    Some(lsp_types::CompletionTextEdit::Edit(e)) => Some(e.new_text.as_str()),
                    _ => None,
                }),
            Some("\"25D771280a\"")
        );
        let items = complete_at(
            &mut server,
            &uri,
            &policy(macos, &block("platform=\"iOS\" ", "build")),
        );
        assert_eq!(labels(&items), ["23D8133"]);

        // No platform named: every platform's builds.
        let items = complete_at(
            &mut server,
            &uri,
            &policy("", "enforce version=\"26.3.1\" build=|"),
        );
        let all = labels(&items);
        assert!(
            all.contains(&"23D8133") && all.contains(&"25D771280a"),
            "{all:?}"
        );
        assert_eq!(items[0].filter_text.as_deref(), Some("build=25D771280a"));

        // Elsewhere, the catalog adds nothing.
        let items = complete_at(&mut server, &uri, &policy(macos, "enforce by=\"|\""));
        assert!(items.is_empty(), "{:?}", labels(&items));
    }

    #[cfg(bsic_repo)]
    #[test]
    fn a_catalog_that_does_not_match_its_pin_gives_no_releases() {
        let (_tmp, mut server, uri) = catalog_project(Some(&"0".repeat(64)));
        let items = complete_at(
            &mut server,
            &uri,
            &policy("", "enforce version=\"|\" by=\"2027-01-15T09:00:00\""),
        );
        assert!(items.is_empty(), "{:?}", labels(&items));
        // Without a catalog the schema's completion is unchanged.
        let items = complete_at(&mut server, &uri, &policy("", "enforce |"));
        assert!(labels(&items).contains(&"version="));
    }

    #[test]
    fn formatting_is_advertised() {
        let caps = serde_json::to_value(capabilities()).unwrap();
        assert_eq!(caps["documentFormattingProvider"], Value::Bool(true));
    }
}
