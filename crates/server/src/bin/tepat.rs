//! The `tepat` binary: see `tepat --help`.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TEPAT_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = tepat_server::cli::Cli::parse();
    if let Some(code) = tepat_server::cli::run_sync(&cli, &tepat_columnar::Engine) {
        return code;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tepat: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tepat_server::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tepat: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
