//! The `lanterne` binary: parse the command line, run it, report errors.

use clap::Parser;

// mimalloc: markedly faster than glibc malloc for the many small, short-lived
// allocations of HTTP serving (measured on the redirect benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = lanterne::cli::Cli::parse();
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
