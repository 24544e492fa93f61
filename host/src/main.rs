//! The `loa` command line: run the server, manage plugins, tenants and the database.

mod cli;

/// mimalloc: per-thread free lists suit a server whose threads all allocate at once.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
