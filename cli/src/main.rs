//! `accord`: the couple's agreements on the command line.
//!
//! `main` only parses the command line, runs the command and prints its report or error.
//! Exit codes: 0 done, 1 the command failed (the message says why and what to do), 2 the
//! command line could not be read.

mod cli;
mod commands;
mod duration;
mod error;
mod output;
mod spec;

use clap::Parser;

fn main() {
    let wants_json = std::env::args_os().any(|a| a == "--json");
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let informational = matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            if wants_json && !informational {
                let message = e.render().to_string();
                let message = message
                    .trim()
                    .trim_start_matches("error: ")
                    .replace('\n', " ");
                output::print_error_parts("usage", &message, true);
                std::process::exit(error::EXIT_USAGE);
            }
            e.exit();
        }
    };
    // While `accord serve` runs for this directory, other commands go through it.
    let local_only = matches!(
        cli.command,
        cli::Command::Serve
            | cli::Command::Join(_)
            | cli::Command::Init(_)
            | cli::Command::Restore(_)
            | cli::Command::Demo
    );
    if !local_only {
        let data = cli
            .data
            .clone()
            .unwrap_or_else(accord_core::space::default_data_dir);
        let args: Vec<String> = std::env::args().skip(1).collect();
        if let Some((stdout, stderr, code)) = commands::network::forward(&data, args) {
            print!("{stdout}");
            eprint!("{stderr}");
            std::process::exit(code);
        }
    }
    match commands::run(&cli, None) {
        Ok(report) => report.print(cli.json),
        Err(e) => {
            output::print_error(&e, cli.json);
            std::process::exit(error::EXIT_ERROR);
        }
    }
}
