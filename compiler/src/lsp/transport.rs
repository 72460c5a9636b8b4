//! stdin/stdout transport that survives any input.
//!
//! In: bytes from the client, framed as `Content-Length: N` headers, a blank line and an
//! N-byte JSON body. Out: [`Incoming`] messages for the server, or a [`BadFrame`] for each
//! frame that could not be read. `lsp-server`'s own stdio transport ends the session at the
//! first bad header and allocates whatever length a header claims, so a typo in a client (or
//! `Content-Length: 99999999999999999`) would kill the server or abort the process. This
//! reader never allocates more than [`MAX_MESSAGE_BYTES`] for a body, answers each bad frame
//! with a JSON-RPC error ([`reply`]) and reads on; only end of input (or an I/O error) ends it.
//!
//! Recovery: a bad header whose body length is known (too large, or the same length given
//! twice) has its body skipped unread; otherwise the reader seeks forward to the next
//! `Content-Length` and starts a new frame there.

use std::io::{self, BufRead, Read};
use std::thread::{self, JoinHandle};

use lsp_server::{Connection, Message, Notification, RequestId};
use serde_json::{Value, json};

/// The largest message body read into memory (a `didOpen` of a big file is a few MiB).
pub const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// The longest header line kept; real ones are under 100 bytes.
const MAX_HEADER_LINE: usize = 1024;

/// The only header that matters, in lower case (header names are case-insensitive).
const CONTENT_LENGTH: &[u8] = b"content-length";

/// The internal notification for a frame that could not be read: the reader hands it to the
/// server, and the server hands it back to the writer, which sends its params (the error
/// response from [`reply`]) as they are. `lsp-server`'s `Response` cannot carry the `null` id
/// JSON-RPC requires for a message whose id is unknown.
pub(crate) const MALFORMED: &str = "bsic/malformed-message";

/// What the reader found next.
#[derive(Debug)]
pub enum Incoming {
    /// A well-formed JSON-RPC message.
    Message(Message),
    /// A frame that could not be read; the reader is ready for the next one.
    Bad(BadFrame),
    /// The input ended.
    Closed,
}

/// Why a frame was not a message. Each is answered with a JSON-RPC error (see `reply`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadFrame {
    #[error("the header line {0:?} is not `Name: value`")]
    MalformedHeader(String),
    #[error("a header line is longer than {MAX_HEADER_LINE} bytes")]
    HeaderTooLong,
    #[error("the header has no `Content-Length`")]
    MissingLength,
    #[error("`Content-Length: {0}` is not a byte count")]
    InvalidLength(String),
    #[error("`Content-Length` is given more than once")]
    DuplicateLength,
    #[error("a {0}-byte message is larger than the {MAX_MESSAGE_BYTES}-byte limit")]
    TooLarge(u64),
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not a JSON-RPC request, response or notification: {message}")]
    NotJsonRpc {
        /// The body's `id`, when it has a usable one: the error answers that request.
        id: Option<RequestId>,
        message: String,
    },
}

impl BadFrame {
    /// The JSON-RPC 2.0 error code: Invalid Request for JSON of the wrong shape, else Parse
    /// error.
    pub fn code(&self) -> i32 {
        match self {
            BadFrame::NotJsonRpc { .. } => -32600,
            _ => -32700,
        }
    }

    /// The id of the request this frame was, when it could be read.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            BadFrame::NotJsonRpc { id, .. } => id.as_ref(),
            _ => None,
        }
    }
}

/// The JSON-RPC error response to a bad frame (`"id": null` unless its id was readable).
pub(crate) fn reply(bad: &BadFrame) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": bad.id(),
        "error": {
            "code": bad.code(),
            "message": format!("bsic lsp could not read a message: {bad}"),
        },
    })
}

/// What the last frame left undone before the next header can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Nothing,
    /// The body of a refused frame: this many bytes are read and dropped.
    Skip(u64),
    /// The frame's extent is unknown: drop bytes up to the next `Content-Length`. The state is
    /// how much of that name was already matched.
    Seek(usize),
}

/// One header line as read: whole (with its line ending), or the first bytes of a line too
/// long to keep.
enum Line {
    Whole(Vec<u8>),
    TooLong(Vec<u8>),
    Eof,
}

/// The end of a header block.
enum Header {
    Length(u64),
    Bad(BadFrame, Pending),
    Closed,
}

/// Reads LSP frames from `input` (see the module header for what it tolerates).
#[derive(Debug)]
pub struct FrameReader<R> {
    input: R,
    pending: Pending,
    /// The start of a header line found while recovering, read before `input`.
    carry: Vec<u8>,
}

impl<R: BufRead> FrameReader<R> {
    pub fn new(input: R) -> Self {
        Self {
            input,
            pending: Pending::Nothing,
            carry: Vec::new(),
        }
    }

    /// The next message or bad frame. An `Err` is an I/O error of the input itself.
    pub fn next_message(&mut self) -> io::Result<Incoming> {
        match std::mem::replace(&mut self.pending, Pending::Nothing) {
            Pending::Nothing => {}
            Pending::Skip(len) => {
                let skipped = io::copy(&mut (&mut self.input).take(len), &mut io::sink())?;
                if skipped < len {
                    return Ok(Incoming::Closed);
                }
            }
            Pending::Seek(matched) => {
                if !self.seek(matched)? {
                    return Ok(Incoming::Closed);
                }
            }
        }
        let len = match self.header()? {
            Header::Length(len) => len,
            Header::Bad(bad, then) => {
                self.pending = then;
                return Ok(Incoming::Bad(bad));
            }
            Header::Closed => return Ok(Incoming::Closed),
        };
        // Grown as bytes arrive, not allocated up front: a client may claim more than it sends.
        let mut body = Vec::new();
        (&mut self.input).take(len).read_to_end(&mut body)?;
        if (body.len() as u64) < len {
            return Ok(Incoming::Closed);
        }
        Ok(parse_body(&body))
    }

    /// Reads one header block up to its blank line. Bare `\n` line endings are accepted as
    /// well as `\r\n`: the body length is exact either way.
    fn header(&mut self) -> io::Result<Header> {
        let mut length: Option<u64> = None;
        let mut duplicate = false;
        let mut conflict = false;
        let mut invalid: Option<String> = None;
        let mut started = false;
        loop {
            let line = match self.line()? {
                Line::Whole(line) => line,
                Line::TooLong(start) => {
                    let then = self.resync(&start);
                    return Ok(Header::Bad(BadFrame::HeaderTooLong, then));
                }
                Line::Eof => return Ok(Header::Closed),
            };
            let text = trim_line_end(&line);
            if text.is_empty() {
                if started {
                    break;
                }
                // A stray line ending between frames (some clients end bodies with one).
                continue;
            }
            started = true;
            let Some((name, value)) = split_header(text) else {
                let bad = BadFrame::MalformedHeader(excerpt(text));
                let then = self.resync(&line);
                return Ok(Header::Bad(bad, then));
            };
            if !name.eq_ignore_ascii_case(CONTENT_LENGTH) {
                continue;
            }
            match parse_length(value) {
                Some(len) => {
                    if let Some(earlier) = length {
                        duplicate = true;
                        conflict |= earlier != len;
                    }
                    length = Some(len);
                }
                None => invalid = Some(excerpt(value)),
            }
        }
        let seek = Pending::Seek(0);
        Ok(match (invalid, length) {
            (Some(value), _) => Header::Bad(BadFrame::InvalidLength(value), seek),
            (None, None) => Header::Bad(BadFrame::MissingLength, seek),
            (None, Some(_)) if conflict => Header::Bad(BadFrame::DuplicateLength, seek),
            (None, Some(len)) if duplicate => {
                Header::Bad(BadFrame::DuplicateLength, Pending::Skip(len))
            }
            (None, Some(len)) if len > MAX_MESSAGE_BYTES => {
                Header::Bad(BadFrame::TooLarge(len), Pending::Skip(len))
            }
            (None, Some(len)) => Header::Length(len),
        })
    }

    /// After a bad line: if a `Content-Length` starts later in it, the next header is read from
    /// there; else the reader seeks on from the end of what was read.
    fn resync(&mut self, line: &[u8]) -> Pending {
        let mut matched = 0;
        // From the second byte: a bad line that starts with the name must not be re-read.
        let rest = line.get(1..).unwrap_or_default();
        match scan(&mut matched, rest) {
            Some(end) => {
                self.carry = [CONTENT_LENGTH, &rest[end..]].concat();
                Pending::Nothing
            }
            None => Pending::Seek(matched),
        }
    }

    /// Drops input up to and including the next `content-length` (any case), which becomes
    /// the start of the next header line. False when the input ended first.
    fn seek(&mut self, mut matched: usize) -> io::Result<bool> {
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(false);
            }
            let len = buf.len();
            if let Some(end) = scan(&mut matched, buf) {
                self.input.consume(end);
                self.carry = CONTENT_LENGTH.to_vec();
                return Ok(true);
            }
            self.input.consume(len);
        }
    }

    /// The next line, the carried start of one first; at most [`MAX_HEADER_LINE`] bytes kept.
    fn line(&mut self) -> io::Result<Line> {
        let mut line = std::mem::take(&mut self.carry);
        loop {
            if line.ends_with(b"\n") {
                return Ok(Line::Whole(line));
            }
            if line.len() >= MAX_HEADER_LINE {
                return Ok(Line::TooLong(line));
            }
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                // A header cut off by the end of input is no frame.
                return Ok(Line::Eof);
            }
            let room = MAX_HEADER_LINE - line.len();
            let window = &buf[..buf.len().min(room)];
            let take = window
                .iter()
                .position(|&b| b == b'\n')
                .map_or(window.len(), |i| i + 1);
            line.extend_from_slice(&window[..take]);
            self.input.consume(take);
        }
    }
}

/// Feeds `bytes` to a matcher of [`CONTENT_LENGTH`] (any case) that has `matched` bytes of it
/// so far; returns the index just past a full match. The name repeats no prefix of itself,
/// so a mismatch restarts at its first byte.
fn scan(matched: &mut usize, bytes: &[u8]) -> Option<usize> {
    for (i, byte) in bytes.iter().enumerate() {
        let byte = byte.to_ascii_lowercase();
        *matched = if CONTENT_LENGTH.get(*matched) == Some(&byte) {
            *matched + 1
        } else if byte == CONTENT_LENGTH[0] {
            1
        } else {
            0
        };
        if *matched == CONTENT_LENGTH.len() {
            *matched = 0;
            return Some(i + 1);
        }
    }
    None
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `Name: value` with `Name` an HTTP token (RFC 9110 §5.6.2) and the value trimmed.
fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    (!name.is_empty() && name.iter().all(token)).then_some((name, value.trim_ascii()))
}

/// A byte count: ASCII digits only (no sign), that fits in a `u64`.
fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// A short printable copy of header bytes for an error message.
fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(80).collect()
}

fn parse_body(body: &[u8]) -> Incoming {
    let Ok(text) = std::str::from_utf8(body) else {
        return Incoming::Bad(BadFrame::NotUtf8);
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return Incoming::Bad(BadFrame::NotJson(e.to_string())),
    };
    let id = value
        .get("id")
        .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    match serde_json::from_value::<Message>(value) {
        Ok(message) => Incoming::Message(message),
        Err(e) => Incoming::Bad(BadFrame::NotJsonRpc {
            id,
            message: e.to_string(),
        }),
    }
}

/// Writes one message; the internal [`MALFORMED`] notice goes out as the error it carries.
fn write_message(out: &mut impl io::Write, message: &Message) -> io::Result<()> {
    match message {
        Message::Notification(n) if n.method == MALFORMED => {
            let body = serde_json::to_vec(&n.params)?;
            write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
            out.write_all(&body)?;
            out.flush()
        }
        other => other.write(out),
    }
}

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
                write_message(&mut stdout, &message)?;
            }
            Ok(())
        })?;
    thread::Builder::new()
        .name("bsic-lsp-reader".into())
        .spawn(move || {
            let mut frames = FrameReader::new(io::stdin().lock());
            loop {
                let message = match frames.next_message() {
                    Ok(Incoming::Message(message)) => message,
                    // The server answers it (see `MALFORMED`) and keeps serving.
                    Ok(Incoming::Bad(bad)) => {
                        Message::Notification(Notification::new(MALFORMED.into(), reply(&bad)))
                    }
                    Ok(Incoming::Closed) | Err(_) => return,
                };
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if to_server.send(message).is_err() || exit {
                    return;
                }
            }
        })?;
    Ok((server, Transport { writer }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// Everything the reader makes of `input`, up to the end: each message's method (or
    /// `response`), or why a frame was bad.
    fn read_all(input: &[u8]) -> Vec<Result<String, BadFrame>> {
        let mut frames = FrameReader::new(input);
        let mut out = Vec::new();
        loop {
            match frames.next_message().unwrap() {
                Incoming::Message(Message::Request(r)) => out.push(Ok(r.method)),
                Incoming::Message(Message::Notification(n)) => out.push(Ok(n.method)),
                Incoming::Message(Message::Response(_)) => out.push(Ok("response".into())),
                Incoming::Bad(b) => out.push(Err(b)),
                Incoming::Closed => return out,
            }
            assert!(out.len() <= input.len(), "no progress on {input:?}");
        }
    }

    fn is_init(read: &Result<String, BadFrame>) -> bool {
        read.as_ref().is_ok_and(|method| method == "initialize")
    }

    /// Each bad frame is reported once, and the `initialize` after it is still read.
    fn bad_then_init(bad: &[u8]) -> BadFrame {
        let mut input = bad.to_vec();
        input.extend_from_slice(frame(INIT).as_bytes());
        let read = read_all(&input);
        assert_eq!(read.len(), 2, "{read:?}");
        assert!(is_init(&read[1]), "{read:?}");
        read[0].clone().expect_err("the first frame is bad")
    }

    #[test]
    fn a_valid_frame_is_a_message() {
        let read = read_all(frame(INIT).as_bytes());
        assert!(matches!(&read[..], [r] if is_init(r)), "{read:?}");
    }

    #[test]
    fn a_huge_length_is_refused_without_reading_its_body() {
        let read = read_all(b"Content-Length: 99999999999999999\r\n\r\n{}");
        assert_eq!(read, [Err(BadFrame::TooLarge(99_999_999_999_999_999))]);
        let over = MAX_MESSAGE_BYTES + 1;
        let mut input = format!("Content-Length: {over}\r\n\r\n").into_bytes();
        input.resize(input.len() + over as usize, b' ');
        input.extend_from_slice(frame(INIT).as_bytes());
        let read = read_all(&input);
        assert_eq!(read[0], Err(BadFrame::TooLarge(over)));
        assert!(is_init(&read[1]) && read.len() == 2);
    }

    #[test]
    fn a_length_past_u64_is_invalid() {
        let bad = bad_then_init(b"Content-Length: 999999999999999999999999\r\n\r\n{}");
        assert!(matches!(bad, BadFrame::InvalidLength(_)), "{bad:?}");
    }

    #[test]
    fn garbage_headers_are_skipped_to_the_next_frame() {
        assert_eq!(
            bad_then_init(b"garbage\r\n\r\n"),
            BadFrame::MalformedHeader("garbage".into())
        );
        assert!(matches!(
            bad_then_init(b"\x00\xff\xfe: 1\r\n\r\n{}"),
            BadFrame::MalformedHeader(_)
        ));
        // Garbage with no line end before the next frame's header.
        assert!(matches!(
            bad_then_init(b"{\"half a body\"}"),
            BadFrame::MalformedHeader(_)
        ));
        let long = vec![b'x'; 100_000];
        assert_eq!(bad_then_init(&long), BadFrame::HeaderTooLong);
    }

    #[test]
    fn bare_line_feeds_are_accepted() {
        let input = format!("Content-Length: {}\n\n{INIT}", INIT.len());
        let read = read_all(input.as_bytes());
        assert!(matches!(&read[..], [r] if is_init(r)), "{read:?}");
    }

    #[test]
    fn negative_and_non_numeric_lengths_are_invalid() {
        for value in ["-5", "abc", "+5", "", "5 5", "0x10"] {
            let bad = bad_then_init(format!("Content-Length: {value}\r\n\r\n{{}}").as_bytes());
            assert_eq!(bad, BadFrame::InvalidLength(value.into()), "{value}");
        }
    }

    #[test]
    fn duplicate_and_missing_lengths_are_bad() {
        let same = b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(bad_then_init(same), BadFrame::DuplicateLength);
        let differ = b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ";
        assert_eq!(bad_then_init(differ), BadFrame::DuplicateLength);
        let missing = b"Content-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\"}";
        assert_eq!(bad_then_init(missing), BadFrame::MissingLength);
    }

    #[test]
    fn bodies_that_are_not_utf8_json_or_json_rpc_are_bad() {
        let mut not_utf8 = b"Content-Length: 4\r\n\r\n".to_vec();
        not_utf8.extend_from_slice(b"\xff\xfe\xfd\xfc");
        assert_eq!(bad_then_init(&not_utf8), BadFrame::NotUtf8);
        assert!(matches!(
            bad_then_init(frame("{this is not json").as_bytes()),
            BadFrame::NotJson(_)
        ));
        let bad = bad_then_init(frame(r#"{"id": 7, "method": 5, "error": 1}"#).as_bytes());
        assert_eq!(bad.id(), Some(&RequestId::from(7)));
        assert_eq!(bad.code(), -32600);
        let bad = bad_then_init(frame("[]").as_bytes());
        assert_eq!((bad.id(), bad.code()), (None, -32600));
    }

    #[test]
    fn a_body_shorter_than_its_length_is_resynchronised() {
        // The length counts characters, not bytes: the tail runs into the next header.
        let body = r#"{"jsonrpc":"2.0","method":"x","params":"é"}"#;
        let chars = body.chars().count();
        let input = format!("Content-Length: {chars}\r\n\r\n{body}{}", frame(INIT));
        let read = read_all(input.as_bytes());
        assert!(matches!(read[0], Err(BadFrame::NotJson(_))), "{read:?}");
        assert!(
            matches!(read[1], Err(BadFrame::MalformedHeader(_))),
            "{read:?}"
        );
        assert!(is_init(&read[2]) && read.len() == 3, "{read:?}");
    }

    #[test]
    fn a_cut_off_frame_ends_the_input() {
        for input in [
            &b"Content-Length: 10\r\n\r\n{}"[..],
            b"Content-Len",
            b"\r\n\r\n",
        ] {
            assert_eq!(read_all(input), [], "{input:?}");
        }
    }

    #[test]
    fn a_bad_frame_is_answered_with_a_null_id_parse_error() {
        let reply = reply(&BadFrame::NotJson("eof".into()));
        assert_eq!(reply["id"], Value::Null);
        assert_eq!(reply["error"]["code"], -32700);
        let mut out = Vec::new();
        let notice = Notification::new(MALFORMED.into(), reply.clone());
        write_message(&mut out, &Message::Notification(notice)).unwrap();
        let text = String::from_utf8(out).unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1;
        assert_eq!(serde_json::from_str::<Value>(body).unwrap(), reply);
    }
}
