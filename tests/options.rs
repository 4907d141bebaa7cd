//! The command lines of the binaries, from outside: `--help` exits 0, a bad option or value
//! is refused with a sentence and a failing exit status, and README's list of the server's
//! options is exactly what `server --help` prints. README is checked, not generated: when
//! the check fails, it prints the block to paste into README's "The server".

use std::process::{Command, Output};

fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn readme_lists_the_options_that_server_help_prints() {
    let help = run(env!("CARGO_BIN_EXE_server"), &["--help"]);
    assert!(help.status.success(), "server --help: {:?}", help.status);
    let help = text(&help.stdout);
    let listed = help
        .split_once("Options:\n")
        .and_then(|(_, rest)| rest.split_once("\n\n"))
        .map(|(options, _)| format!("{options}\n"))
        .expect("server --help has an Options: list followed by a blank line");
    let readme = include_str!("../README.md");
    let opening = "```text\ncargo run --bin server -- [OPTIONS]\n";
    let documented = readme
        .split_once(opening)
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(options, _)| options)
        .expect("README's \"The server\" has a ```text block opening with the cargo run line");
    assert!(
        documented == listed,
        "README's server options differ from `server --help`; replace the lines after \
         `cargo run --bin server -- [OPTIONS]` in README.md with:\n{listed}"
    );
}

#[test]
fn help_exits_0_and_every_mistake_is_a_sentence() {
    let server = env!("CARGO_BIN_EXE_server");
    let chat = env!("CARGO_BIN_EXE_chat");
    let bench = env!("CARGO_BIN_EXE_bench");
    for binary in [server, chat, bench] {
        for help in ["--help", "-h"] {
            let out = run(binary, &[help]);
            assert!(out.status.success(), "{binary} {help}: {:?}", out.status);
            let stdout = text(&out.stdout);
            assert!(stdout.contains("Options:\n") && stdout.contains("-h, --help"));
        }
    }
    let cases: &[(&str, &[&str], &str)] = &[
        (
            server,
            &["--frob"],
            "server: unknown option '--frob' (see --help)",
        ),
        (
            server,
            &["--max-users", "0"],
            "server: --max-users takes a number of at least 1, not '0' (see --help)",
        ),
        (
            server,
            &["--idle-timeout=inf"],
            "server: --idle-timeout takes a number of seconds of at least 0.001, not 'inf'",
        ),
        (server, &["--cert"], "server: --cert needs a value: FILE"),
        (
            server,
            &["--no-persist=yes"],
            "server: --no-persist takes no value",
        ),
        (chat, &[], "chat: --nickname NAME is required (see --help)"),
        (
            chat,
            &["--nickname", "bob", "--server", "a:b:c"],
            "chat: --server 'a:b:c': ",
        ),
        (
            bench,
            &["--spawn-server", "--rate", "x"],
            "bench: --rate takes a number of at least 0",
        ),
        (
            bench,
            &["--spawn-server", "--irc"],
            "bench: --spawn-server starts tlschat's server",
        ),
    ];
    for (binary, args, expected) in cases {
        let out = run(binary, args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{binary} {args:?} ran: {stderr}");
        assert!(stderr.starts_with(expected), "{binary} {args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{binary} {args:?} printed to stdout");
    }
}
