//! The widgets. Each part of the window is one type in its own file, with private widgets
//! and a few methods; none of them knows about the network or the controller. `window.rs`
//! assembles them and sends what the user does as [`Action`]s (`action.rs`) into the
//! client's one channel; the controller answers by calling the parts' methods.

pub mod action;
pub mod compose;
pub mod connect_bar;
pub mod days;
pub mod message_list;
pub mod message_row;
pub mod status_bar;
pub mod user_list;
pub mod window;

use std::time::SystemTime;

use gtk::gdk;

pub use action::Action;
pub use window::View;

/// Formats `time` in the local time zone with a `strftime`-like `format`.
pub fn local_time(time: SystemTime, format: &str) -> String {
    tlschat::runtime::clock::local(time, format)
}

/// Installs the application style sheet for the default display.
pub fn load_css() {
    let Some(display) = gdk::Display::default() else {
        return;
    };
    let provider = gtk::CssProvider::new();
    provider.load_from_data(CSS);
    gtk::style_context_add_provider_for_display(
        &display,
        &provider,
        gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
    );
}

const CSS: &str = include_str!("style.css");

#[cfg(test)]
mod tests;
