//! The progress bar of `bsic build`: drawn on stderr only when it is a terminal, only once a
//! build has taken more than a moment, never with `--quiet`. Piped output and CI logs stay
//! exactly as without it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::pipeline::Progress;

/// A build that ends sooner than this never shows a bar.
const DELAY: Duration = Duration::from_millis(400);

pub(super) struct Bar {
    bar: ProgressBar,
    started: OnceLock<Instant>,
    enabled: bool,
    shown: AtomicBool,
}

impl Bar {
    pub(super) fn new(quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style =
            ProgressStyle::with_template("{bar:30} {pos}/{len} groups written ({eta} left)")
                .map(|s| s.progress_chars("=> "));
        if let Ok(style) = style {
            bar.set_style(style);
        }
        Self {
            bar,
            started: OnceLock::new(),
            enabled: !quiet,
            shown: AtomicBool::new(false),
        }
    }
}

impl Progress for Bar {
    fn start(&self, groups: usize) {
        self.bar.set_length(groups as u64);
        let _ = self.started.set(Instant::now());
    }

    fn advance(&self) {
        self.bar.inc(1);
        let late = self.started.get().is_some_and(|t| t.elapsed() >= DELAY);
        if self.enabled && late && !self.shown.swap(true, Ordering::Relaxed) {
            // indicatif draws nothing on a stderr that is not a terminal.
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Bar {
    /// A build that fails half way must not leave a bar above its error message.
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }
}
