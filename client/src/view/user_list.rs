//! The sidebar: who is online, with a count. Rebuilt on every change; rooms are small enough
//! that a ListBox is simpler than a model.

use gtk::prelude::*;

use crate::model::text::{colour_index, natural_cmp};
use tlschat::wire::User;

/// The user list sidebar.
#[derive(Clone)]
pub struct UserList {
    root: gtk::Box,
    heading: gtk::Label,
    list: gtk::ListBox,
}

impl UserList {
    pub fn new() -> UserList {
        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        root.add_css_class("sidebar");
        root.set_width_request(210);
        let heading = gtk::Label::builder()
            .xalign(0.0)
            .css_classes(["heading"])
            .build();
        let list = gtk::ListBox::builder()
            .selection_mode(gtk::SelectionMode::None)
            .build();
        list.set_tooltip_text(Some(
            "Double-click or press Enter on a name to message them privately",
        ));
        let scrolled = gtk::ScrolledWindow::builder()
            .hscrollbar_policy(gtk::PolicyType::Never)
            .vexpand(true)
            .child(&list)
            .build();
        root.append(&heading);
        root.append(&scrolled);
        let users = UserList {
            root,
            heading,
            list,
        };
        users.set_users(&[], None);
        users
    }

    /// The sidebar, to place in the window.
    pub fn root(&self) -> &gtk::Box {
        &self.root
    }

    /// Shows `users`; `me` is our own id, marked "you".
    pub fn set_users(&self, users: &[User], me: Option<u64>) {
        self.heading.set_label(&match users.len() {
            0 if me.is_none() => "Not connected".to_string(),
            0 => "Nobody online".to_string(),
            n => format!("Online — {n}"),
        });
        while let Some(row) = self.list.row_at_index(0) {
            self.list.remove(&row);
        }
        let mut sorted: Vec<&User> = users.iter().collect();
        sorted.sort_by(|a, b| natural_cmp(&a.nickname, &b.nickname));
        for user in sorted {
            self.list.append(&user_row(user, me == Some(user.id)));
        }
    }

    #[cfg(test)]
    /// The heading: "Online — 3", "Not connected".
    pub fn heading(&self) -> String {
        self.heading.label().to_string()
    }

    #[cfg(test)]
    /// The nicknames shown, top to bottom.
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        while let Some(row) = self.list.row_at_index(names.len() as i32) {
            names.push(row.widget_name().to_string());
        }
        names
    }

    /// Calls `f` with a nickname when its row is activated.
    pub fn connect_activated(&self, f: impl Fn(&str) + 'static) {
        self.list
            .connect_row_activated(move |_, row| f(&row.widget_name()));
    }
}

impl Default for UserList {
    fn default() -> Self {
        UserList::new()
    }
}

fn user_row(user: &User, is_me: bool) -> gtk::ListBoxRow {
    let colour = format!("nick-{}", colour_index(&user.nickname));
    let initial: String = user
        .nickname
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    let avatar = gtk::Label::builder()
        .label(initial)
        .css_classes(["avatar", colour.as_str()])
        .build();
    let name = gtk::Label::builder()
        .label(&user.nickname)
        .xalign(0.0)
        .ellipsize(gtk::pango::EllipsizeMode::End)
        .build();
    let line = gtk::Box::new(gtk::Orientation::Horizontal, 10);
    line.append(&avatar);
    line.append(&name);
    if is_me {
        line.append(
            &gtk::Label::builder()
                .label("you")
                .css_classes(["you"])
                .build(),
        );
    }
    let row = gtk::ListBoxRow::builder().child(&line).build();
    // The widget name carries the nickname to the activation handler.
    row.set_widget_name(&user.nickname);
    row.set_tooltip_text(Some(&format!("{} (#{})", user.nickname, user.id)));
    row
}
