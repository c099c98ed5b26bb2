/// Sends logs to stderr for both front ends, filtered by `GUARDIA_LOG` (e.g. `debug`,
/// `guardia_store=trace`) or by `default` when it is unset. Call once, from `main`.
pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GUARDIA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
