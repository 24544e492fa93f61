//! The `loa` command line: run the server, manage plugins, tenants and the database.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
