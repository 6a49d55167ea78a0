//! The `kinesim` binary: parse the command line, hand it to the library, exit with its
//! code (design.md §5). Everything else lives in `kinesim::cli`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit 2 (clap's code for them); --help and --version exit 0.
    kinesim::cli::main(kinesim::cli::Cli::parse())
}
