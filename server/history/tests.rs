//! The history file: reloading, damage, full disks, compaction, numbering, the lock.

use super::*;

fn line(seq: u64) -> Frame {
    format!("{{\"type\":\"message\",\"seq\":{seq},\"time\":\"t\",\"sender_id\":1,\"sender_nickname\":\"a\",\"message\":\"m{seq}\"}}\n")
        .into_bytes()
        .into()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tlschat-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

#[test]
fn reload_continues_seq_and_keeps_the_tail() {
    let dir = temp_dir("reload");
    {
        let mut h = HistoryStore::open(&dir, 3).unwrap();
        for seq in 1..=5 {
            h.append_message(seq, line(seq)).unwrap();
        }
        h.note_seq(6).unwrap();
        h.finish(0, Vec::new()).unwrap();
    }
    let h = HistoryStore::open(&dir, 3).unwrap();
    assert_eq!(h.last_seq(), 6);
    let seqs: Vec<u64> = h.recent(10).map(|e| e.seq).collect();
    assert_eq!(seqs, [3, 4, 5]);
    let (after, gap) = h.after(1);
    assert_eq!(after.map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(gap, Some((2, 2)));
    let (after, gap) = h.after(4);
    assert_eq!(after.map(|e| e.seq).collect::<Vec<_>>(), [5]);
    assert_eq!(gap, None);
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn damaged_lines_anywhere_are_set_aside_and_the_rest_loads() {
    let dir = temp_dir("torn");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.jsonl");
    let mut text = b"garbage\n".to_vec();
    text.extend_from_slice(&line(1));
    text.extend_from_slice(b"{\"type\":\"message\",\"seq\":2,\"time\":\"t\",\"sender_id\":1,\"sender_nickname\":\"a\",\"message\":\"bad \xff byte\"}\n");
    text.extend_from_slice(&line(3));
    text.extend_from_slice(b"{\"type\":\"message\",\"seq\":4,\"ti");
    fs::write(&path, &text).unwrap();
    let mut h = HistoryStore::open(&dir, 10).unwrap();
    assert_eq!(h.last_seq(), 3);
    let lines: Vec<String> = h
        .recent(10)
        .map(|e| String::from_utf8(e.line.to_vec()).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains("bad \u{fffd} byte"), "{lines:?}");
    h.append_message(5, line(5)).unwrap();
    drop(h);
    let aside = fs::read(dir.join("history.jsonl.damaged")).unwrap();
    assert!(aside.starts_with(b"garbage\n") && aside.ends_with(b"\"seq\":4,\"ti\n"));
    assert!(aside.windows(5).any(|w| w == b"bad \xff"));
    let h = HistoryStore::open(&dir, 10).unwrap();
    assert_eq!(
        h.recent(10).map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 5]
    );
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn a_failed_append_leaves_whole_lines_only() {
    let dir = temp_dir("enospc");
    let mut h = HistoryStore::open(&dir, 10).unwrap();
    h.append_message(1, line(1)).unwrap();
    // What a full disk leaves: part of a line that the write could not finish.
    if let Some(f) = &mut h.file {
        f.file.write_all(b"{\"type\":\"mess").unwrap();
        f.torn = true;
    }
    h.append_message(2, line(2)).unwrap();
    drop(h);
    let text = fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!dir.join("history.jsonl.damaged").exists());
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn compaction_keeps_the_retained_tail_and_the_seq() {
    let dir = temp_dir("compact");
    {
        let mut h = HistoryStore::open(&dir, 10).unwrap();
        for seq in 1..=1500 {
            h.append_message(seq, line(seq)).unwrap();
        }
        h.compact(true);
    }
    let text = fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert!(
        text.lines().count() < 1100,
        "compacted: {} lines",
        text.lines().count()
    );
    let h = HistoryStore::open(&dir, 10).unwrap();
    assert!(h.last_seq() >= 1500);
    assert_eq!(
        h.recent(100).map(|e| e.seq).collect::<Vec<_>>(),
        (1491..=1500).collect::<Vec<_>>()
    );
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn seq_and_ids_never_go_backwards_even_without_the_history_file() {
    let dir = temp_dir("floor");
    {
        let mut h = HistoryStore::open(&dir, 3).unwrap();
        h.reserve_id(7).unwrap();
        h.append_message(1, line(1)).unwrap();
    } // a crash: no finish
    fs::remove_file(dir.join("history.jsonl")).unwrap();
    let mut h = HistoryStore::open(&dir, 3).unwrap();
    assert!(h.last_seq() >= 1 && h.id_floor() >= 7);
    let seq = h.last_seq() + 1;
    h.append_message(seq, line(seq)).unwrap();
    h.finish(8, Vec::new()).unwrap();
    drop(h);
    fs::remove_file(dir.join("history.jsonl")).unwrap();
    let h = HistoryStore::open(&dir, 3).unwrap();
    assert_eq!((h.last_seq(), h.id_floor()), (seq, 8));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn one_data_dir_one_server() {
    let dir = temp_dir("lock");
    let _first = HistoryStore::open(&dir, 10).unwrap();
    let second = HistoryStore::open(&dir, 10)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(second.contains("in use by another server"), "{second}");
    // Refused, it touched nothing: not even a running compaction's file.
    fs::write(dir.join("history.jsonl.tmp"), b"in progress").unwrap();
    assert!(HistoryStore::open(&dir, 10).is_err());
    assert!(dir.join("history.jsonl.tmp").exists());
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn a_torn_last_line_alone_is_cut_off_and_kept_aside() {
    let dir = temp_dir("torn-last");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.jsonl");
    let mut text = line(1).to_vec();
    text.extend_from_slice(&line(2));
    text.extend_from_slice(b"{\"type\":\"message\",\"seq\":3,\"ti");
    fs::write(&path, &text).unwrap();
    let mut h = HistoryStore::open(&dir, 10).unwrap();
    assert_eq!(h.last_seq(), 2);
    h.append_message(3, line(3)).unwrap();
    drop(h);
    let kept = fs::read_to_string(&path).unwrap();
    assert_eq!(kept.lines().count(), 3);
    assert!(kept.ends_with("\"m3\"}\n"), "{kept}");
    let aside = fs::read_to_string(dir.join("history.jsonl.damaged")).unwrap();
    assert_eq!(aside, "{\"type\":\"message\",\"seq\":3,\"ti\n");
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn compaction_happens_beside_the_appends_not_inside_them() {
    let dir = temp_dir("beside");
    let mut h = HistoryStore::open(&dir, 10).unwrap();
    for seq in 1..=1001 {
        h.append_message(seq, line(seq)).unwrap();
    }
    // The append that made compaction due returned before the file was rewritten.
    assert!(h.file.as_ref().is_some_and(|f| f.compaction.is_some()));
    let text = fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 1001);
    h.append_message(1002, line(1002)).unwrap();
    h.compact(true);
    let text = fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert!(text.lines().count() <= 13, "{} lines", text.lines().count());
    assert!(text.ends_with("\"m1002\"}\n"));
    // Appends after the switch go to the new file.
    h.append_message(1003, line(1003)).unwrap();
    let text = fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert!(text.ends_with("\"m1003\"}\n"));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn an_append_after_the_final_save_is_still_reserved() {
    let dir = temp_dir("after-finish");
    {
        let mut h = HistoryStore::open(&dir, 10).unwrap();
        h.append_message(1, line(1)).unwrap();
        h.finish(0, Vec::new()).unwrap();
        h.append_message(2, line(2)).unwrap();
    }
    fs::remove_file(dir.join("history.jsonl")).unwrap();
    let h = HistoryStore::open(&dir, 10).unwrap();
    assert!(h.last_seq() >= 2);
    let _ = fs::remove_dir_all(dir);
}
