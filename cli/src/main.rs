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
    match commands::run(&cli) {
        Ok(report) => report.print(cli.json),
        Err(e) => {
            output::print_error(&e, cli.json);
            std::process::exit(error::EXIT_ERROR);
        }
    }
}
