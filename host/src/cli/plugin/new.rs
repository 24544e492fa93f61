//! `loa plugin new`: a plugin crate from a template, ready to build and test.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::KindArg;

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Plugin name: lowercase letters, digits and '-'.
    name: String,
    /// What the plugin is.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// Where to create it. Default: `./<name>`.
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub(crate) fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    let _ = (args.name, args.kind, args.dir);
    anyhow::bail!("not yet")
}
