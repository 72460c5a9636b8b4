//! stdin/stdout transport that survives malformed messages.
//!
//! `lsp-server`'s own stdio transport stops reading at the first payload that is not a valid
//! JSON-RPC message, which would leave the editor with a dead server. This one frames with the
//! same `lsp_server::Message::read`/`write`, but when a well-framed payload does not parse it
//! hands the server a [`MALFORMED`] notice (the server logs it to the client with
//! `window/logMessage`) and reads on. Only broken framing (a bad header,
//! a short body) or end of input ends the session.

use std::io::{self, BufReader};
use std::thread::{self, JoinHandle};

use lsp_server::{Connection, Message, Notification};

/// The internal notification the reader hands the server for a payload it could not parse.
pub(crate) const MALFORMED: &str = "bsic/malformed-message";

/// The threads that copy between stdio and the connection.
pub(crate) struct Transport {
    writer: JoinHandle<io::Result<()>>,
}

impl Transport {
    /// Waits until every message the server sent is written.
    pub(crate) fn join(self) -> io::Result<()> {
        self.writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the stdout writer failed")))
    }
}

/// A connection over stdin/stdout, and the transport behind it.
pub(crate) fn stdio() -> io::Result<(Connection, Transport)> {
    let (server, client) = Connection::memory();
    let Connection {
        sender: to_server,
        receiver: from_server,
    } = client;
    let writer = thread::Builder::new()
        .name("bsic-lsp-writer".into())
        .spawn(move || {
            let mut stdout = io::stdout().lock();
            for message in from_server {
                message.write(&mut stdout)?;
            }
            Ok(())
        })?;
    thread::Builder::new()
        .name("bsic-lsp-reader".into())
        .spawn(move || {
            let mut stdin = BufReader::new(io::stdin().lock());
            loop {
                match Message::read(&mut stdin) {
                    Ok(Some(message)) => {
                        let exit =
                            matches!(&message, Message::Notification(n) if n.method == "exit");
                        if to_server.send(message).is_err() || exit {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(error) if error.to_string().starts_with("malformed LSP payload") => {
                        // The server reports it to the client and keeps serving.
                        let note = Notification::new(MALFORMED.into(), error.to_string());
                        if to_server.send(Message::Notification(note)).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        })?;
    Ok((server, Transport { writer }))
}
