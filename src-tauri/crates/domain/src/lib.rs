//! # guardia-domain — what an ops task *is*, with no IO
//!
//! Everything the control room decides about a task lives here as plain data and pure
//! functions: the task id format (`OPS-20261121-001`), the validated fields a request must
//! have, and the state machine that says which status may follow which.
//!
//! The crate has no IO, no clock and no async. Time is passed in by the caller, so the same
//! code runs in the backend (native) and in the console UI (wasm), and tests need no fake
//! clock. The UI uses the same validation to show form errors as you type; the backend
//! re-validates every request, because the UI is never trusted to decide.
//!
//! Raw input (`TaskDraft`, strings straight from a form, the CLI or IPC) is turned into
//! validated types (`NewTask`, `Title`, `SystemName`, …) exactly once, at the edge. Code past
//! that point cannot hold an invalid task.

#[cfg(not(target_arch = "wasm32"))]
pub mod command;
pub mod governance;
pub mod incident;
pub mod inventory;
#[cfg(not(target_arch = "wasm32"))]
pub mod rollout;
pub mod task;
pub mod text;

pub use task::{
    Category, Field, FieldError, NewTask, PersonName, Priority, Problem, RequestText, SubType,
    SystemName, Task, TaskDraft, TaskEvent, TaskId, TaskIdError, TaskStatus, TimelineEntry,
    TimelineKind, Title, Transition, TransitionRefused, UnknownCategory,
};
