//! Helpers for the real-broker end-to-end tests.
