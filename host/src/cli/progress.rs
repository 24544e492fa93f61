//! A progress bar for long jobs (embedding a knowledge import, writing a catalog), drawn
//! only on a terminal that asked for it.

use indicatif::{ProgressBar, ProgressStyle};

/// Progress of a long job: `done` of `total` texts embedded, products written ...
pub(crate) struct SyncProgress {
    bar: Option<ProgressBar>,
}

impl SyncProgress {
    /// A bar labelled `label` counting texts, hidden when `visible` is false (JSON output).
    pub(crate) fn new(label: &str, visible: bool) -> Self {
        Self::with_unit(label, "texts", visible)
    }

    /// A bar labelled `label` counting `unit` (`products`), hidden when `visible` is false.
    pub(crate) fn with_unit(label: &str, unit: &str, visible: bool) -> Self {
        let bar = visible.then(|| {
            let bar = ProgressBar::new(0);
            let template = format!("{{msg:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{eta}})");
            bar.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(label.to_owned());
            bar
        });
        Self { bar }
    }

    /// Moves the bar.
    pub(crate) fn update(&self, done: usize, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
