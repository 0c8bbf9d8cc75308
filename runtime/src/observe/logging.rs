//! Log output for services (feature `logging`): [`init_logging`] installs a
//! `tracing-subscriber` formatter chosen from the environment.
//!
//! - `PMP_LOG_FORMAT`: `text` (default) or `json` (one JSON object per event, with the span
//!   fields); anything else is an error naming the variable and the value.
//! - ANSI colours only when stderr is a terminal and `NO_COLOR` is unset or empty
//!   (<https://no-color.org>).
//! - `RUST_LOG` filters as usual (default `info`).
//!
//! Logs go to stderr. The runtime logs states and counts, never payload values.

use std::io::IsTerminal;

/// The environment variable choosing the format.
pub const LOG_FORMAT_ENV: &str = "PMP_LOG_FORMAT";

/// What [`init_logging`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSettings {
    /// JSON lines instead of text.
    pub json: bool,
    /// ANSI colours.
    pub ansi: bool,
}

impl LogSettings {
    /// Decide from the values of `PMP_LOG_FORMAT` and `NO_COLOR` and whether the output is a
    /// terminal.
    pub fn decide(
        log_format: Option<&str>,
        no_color: Option<&str>,
        terminal: bool,
    ) -> Result<Self, String> {
        let json = match log_format.map(str::trim) {
            None | Some("") | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(format!(
                    "{LOG_FORMAT_ENV}={other:?} is not a log format (use text or json)"
                ))
            }
        };
        let no_color = no_color.is_some_and(|v| !v.is_empty());
        Ok(LogSettings {
            json,
            ansi: !json && terminal && !no_color,
        })
    }
}

/// Install the global subscriber (see the module docs); the error names a bad
/// `PMP_LOG_FORMAT` or a subscriber already installed.
pub fn init_logging() -> Result<LogSettings, String> {
    let format = std::env::var(LOG_FORMAT_ENV).ok();
    let no_color = std::env::var("NO_COLOR").ok();
    let settings = LogSettings::decide(
        format.as_deref(),
        no_color.as_deref(),
        std::io::stderr().is_terminal(),
    )?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(settings.ansi);
    let result = if settings.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| format!("cannot install the log subscriber: {e}"))?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::LogSettings;

    #[test]
    fn format_and_colour_from_the_environment() {
        let d = LogSettings::decide;
        let s = |json, ansi| Ok(LogSettings { json, ansi });
        assert_eq!(d(None, None, true), s(false, true));
        assert_eq!(d(Some("text"), None, false), s(false, false));
        assert_eq!(d(Some("text"), Some("1"), true), s(false, false));
        assert_eq!(d(Some("text"), Some(""), true), s(false, true));
        assert_eq!(d(Some("json"), None, true), s(true, false));
        let err = d(Some("yaml"), None, true).unwrap_err();
        assert!(
            err.contains("PMP_LOG_FORMAT") && err.contains("yaml"),
            "{err}"
        );
    }
}
