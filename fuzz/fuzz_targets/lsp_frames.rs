//! `bsic lsp` framing: any bytes on the server's stdin, read frame by frame as the server
//! reads them (headers, lengths, bodies, JSON-RPC), up to the end of input.
#![no_main]

use bsic::lsp::{FrameReader, Incoming};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut frames = FrameReader::new(data);
    let mut read = 0usize;
    loop {
        match frames.next_message() {
            Ok(Incoming::Closed) | Err(_) => break,
            Ok(Incoming::Message(_)) => {}
            Ok(Incoming::Bad(bad)) => {
                // Every bad frame gets a JSON-RPC error code.
                assert!(matches!(bad.code(), -32700 | -32600), "{bad:?}");
            }
        }
        // Each message or bad frame uses up at least one byte: the reader cannot spin.
        read += 1;
        assert!(
            read <= data.len(),
            "{read} frames from {} bytes",
            data.len()
        );
    }
});
