//! End-to-end tests of the real console window (tauri-driver + WebKitWebDriver under Xvfb),
//! one binary: the Tasks, Audit and Inventory stories, and the live console (changes from
//! another process appear without a click; a check is cancelled from the window).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a panic is the report

mod appimage;
mod approvals;
mod audit;
mod console;
mod governance;
mod incidents;
mod inventory;
mod live;
mod review;
mod rollout;
mod signin;
