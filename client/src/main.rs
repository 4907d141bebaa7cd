//! tlschat desktop client: a GTK4 window onto a tlschat room, in the spirit of HexChat and
//! Polari. Run it from the workspace root with
//! `cargo run --bin client -- --server 127.0.0.1:8888 --nickname alice --connect`
//! (`--help` lists every option).
//!
//! The parts follow model–view–controller, and talk by message passing over one bounded
//! `async_channel` of [`event::Event`]s. The network thread (one per connection attempt, from
//! `tlschat::runtime::spawn`) owns the TLS stream and sends each `NetEvent` into it, waiting
//! if it is full. The view sends what the user does (an `Action`: Login with the fields,
//! Submit with the text, Tab, Up/Down, Close...) without ever waiting. On the GTK main thread
//! one future, spawned with `glib::spawn_future_local`, receives every `Event` and `match`es
//! it to one controller method, which updates the model (plain Rust) and then calls the
//! view's methods. Nothing blocks the UI on the network; widgets never leave the main
//! thread. The controller sends to the server through the connection's `ClientHandle`,
//! which queues without blocking.
//!
//! ```text
//!            ClientHandle::send (login, broadcast, private, quit)
//!     ┌──────────────────────────────────────────────────────────────┐
//!     │                                                              ▼
//! ┌───┴────────┐   Event    ┌──────────────┐ NetEvent ┌──────────────────┐   TLS
//! │ controller │◄───────────│ async-channel│◄─────────│ network thread   │◄──────► server
//! └───┬────┬───┘   (recv)   │  (bounded)   │          │(tlschat::runtime)│
//!     │    │                └──────────────┘          └──────────────────┘
//!     │    │ updates               ▲ Action
//!     │    ▼                       │ (Login, Submit(text), Tab, Up/Down, Close)
//!     │  model: Room, Connection,  │
//!     │  Timeline, InputRecall     │
//!     ▼                            │
//!   view: window, connect bar, compose, message list, user list, status bar
//!     (methods: set_button, set_text, apply, set_users, set...)
//! ```

mod controller;
mod event;
mod model;
mod network;
mod options;
mod probe;
mod transcript;
mod view;

use std::fmt;
use std::path::PathBuf;
use std::process::{ExitCode, Termination};

use gtk::prelude::*;
use gtk::{gio, glib};

use controller::Controller;
use options::{Options, Parsed};
use transcript::Transcript;

/// Application id; NON_UNIQUE lets several windows (and tests) run side by side.
const APP_ID: &str = "org.tlschat.Client";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code.report(),
        Err(e) => {
            eprintln!("client: {e}");
            ExitCode::from(2)
        }
    }
}

/// Why the client could not start.
#[derive(Debug)]
enum StartError {
    Usage(options::UsageError),
    Ca {
        path: PathBuf,
        detail: String,
    },
    Log {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Usage(e) => e.fmt(f),
            StartError::Ca { path, detail } => {
                write!(
                    f,
                    "cannot use {} as the CA certificate: {detail}",
                    path.display()
                )
            }
            StartError::Log { path, error } => {
                write!(f, "cannot write the transcript {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for StartError {}

fn run() -> Result<glib::ExitCode, StartError> {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "client".into());
    let options = match options::parse(args).map_err(StartError::Usage)? {
        Parsed::Help => {
            println!("{}", options::USAGE);
            return Ok(glib::ExitCode::SUCCESS);
        }
        Parsed::Run(options) => options,
    };
    let ca_pem = read_ca(&options)?;
    let transcript = match &options.log {
        Some(path) => Some(Transcript::open(path).map_err(|error| StartError::Log {
            path: path.clone(),
            error,
        })?),
        None => None,
    };

    let app = gtk::Application::builder()
        .application_id(APP_ID)
        .flags(gio::ApplicationFlags::NON_UNIQUE)
        .build();
    // activate may in principle run more than once; the transcript goes to the first window.
    let transcript = std::cell::RefCell::new(transcript);
    app.connect_activate(move |app| {
        start(
            app,
            &options,
            ca_pem.clone(),
            transcript.borrow_mut().take(),
        );
    });
    // GTK must not see our options: it would reject them as unknown.
    Ok(app.run_with_args(&[argv0]))
}

fn read_ca(options: &Options) -> Result<Vec<u8>, StartError> {
    let Some(path) = &options.ca else {
        return Ok(tlschat::runtime::connect::BUNDLED_CA.to_vec());
    };
    let pem = std::fs::read(path).map_err(|e| StartError::Ca {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    if tlschat::certs::first_certificate_der(&pem).is_none() {
        return Err(StartError::Ca {
            path: path.clone(),
            detail: "it holds no PEM certificate".into(),
        });
    }
    Ok(pem)
}

/// Builds the window and the controller, and starts the event loop.
fn start(
    app: &gtk::Application,
    options: &Options,
    ca_pem: Vec<u8>,
    transcript: Option<Transcript>,
) {
    view::load_css();
    let view = view::View::new(app, &options.server, &options.nickname);
    probe::start(&view);
    // As if Enter were pressed in a field: the fields hold what the options say.
    let login = options
        .connect
        .then(|| view::Action::Login(view.connect_bar().fields()));
    let (tx, rx) = event::channel();
    // Shows the window, once it shows the state the controller starts in.
    let controller = Controller::new(app, view, tx.clone(), ca_pem, transcript);
    glib::spawn_future_local(controller.run(rx));
    if let Some(login) = login {
        // The channel is empty yet, so this cannot find it full.
        let _ = tx.try_send(event::Event::User(login));
    }
}
