// No console window on Windows release builds; the app logs to stderr elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    guardia_console::main()
}
