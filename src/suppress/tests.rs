use super::file::{parse, render};
use super::*;

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

fn firing_doc(network: &str) -> (Vec<Rcvar>, Rcvar) {
    let event = serde_json::json!({"networkId": network, "lossPercent": 12.5});
    let event = Arc::new(Variable::try_from(event).unwrap());
    let vars = Arc::new(Variable::try_from(serde_json::json!({"site": "zrh"})).unwrap());
    (vec![event], vars)
}

const FILE: &str = r#"
- id: maint-n1
  matcher: "event.networkId == 'N_1'"
  every: {days: [sat], from: "22:00", to: "02:00", timezone: Europe/Zurich}
  comment: ISP maintenance
  created_by: noc
- id: loss-once
  matcher: "rule == 'High loss' && vars.site == 'zrh'"
  starts_at: 2026-01-15T10:00:00Z
  ends_at: 2026-01-15T12:00:00Z
- id: old
  matcher: "`true`"
  ends_at: 2025-01-01T00:00:00Z
"#;

#[test]
fn silences_match_the_firing_document_while_active() {
    let file = parse("silences.yml", FILE).unwrap();
    let set = &file.set;
    let (events, vars) = firing_doc("N_2");
    let view = |rule, events: &[Rcvar]| {
        FiringView {
            ruleset: "Uplinks",
            rule,
            events,
            vars: &vars,
            status: FiringStatus::Firing,
        }
        .document()
    };
    let doc = view("High loss", &events);
    assert_eq!(set.silenced_by(&doc, ms("2026-01-15T09:59:59Z")).0, None);
    assert_eq!(
        set.silenced_by(&doc, ms("2026-01-15T10:00:00Z")).0,
        Some("loss-once")
    );
    assert_eq!(
        set.silenced_by(&doc, ms("2026-01-15T12:00:00Z")).0,
        None,
        "ended"
    );
    let other_rule = view("High latency", &events);
    assert_eq!(
        set.silenced_by(&other_rule, ms("2026-01-15T11:00:00Z")).0,
        None
    );
    // The maintenance window: Saturday 2026-01-17 22:00 Zurich (21:00 UTC), network N_1 only.
    let (n1, _) = firing_doc("N_1");
    let n1 = view("High latency", &n1);
    assert_eq!(set.silenced_by(&n1, ms("2026-01-17T20:59:00Z")).0, None);
    assert_eq!(
        set.silenced_by(&n1, ms("2026-01-17T21:00:00Z")).0,
        Some("maint-n1")
    );
    assert_eq!(
        set.silenced_by(&n1, ms("2026-01-18T00:59:00Z")).0,
        Some("maint-n1")
    );
    assert_eq!(set.silenced_by(&n1, ms("2026-01-18T01:00:00Z")).0, None);
}

#[test]
fn silence_states_for_listing() {
    let file = parse("silences.yml", FILE).unwrap();
    let state = |id: &str, at: &str| {
        let silence = file.set.silences.iter().find(|s| s.id == id).unwrap();
        silence.state(ms(at))
    };
    assert_eq!(state("old", "2026-01-15T00:00:00Z"), SilenceState::Expired);
    assert_eq!(
        state("loss-once", "2026-01-15T00:00:00Z"),
        SilenceState::Pending {
            from_ms: ms("2026-01-15T10:00:00Z")
        }
    );
    assert_eq!(
        state("loss-once", "2026-01-15T11:00:00Z"),
        SilenceState::Active {
            until_ms: Some(ms("2026-01-15T12:00:00Z"))
        }
    );
    assert_eq!(
        state("maint-n1", "2026-01-15T00:00:00Z"),
        SilenceState::Pending {
            from_ms: ms("2026-01-17T22:00:00+01:00")
        }
    );
}

#[test]
fn a_bad_silences_file_is_reported_at_file_line_col_with_a_caret() {
    let source = "- id: a\n  matcher: \"event.x ==\"\n  ends_at: 2026-01-15T12:00:00Z\n- id: b\n  matchr: \"`true`\"\n  ends_at: tomorrow\n";
    let err = parse("sil.yml", source).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("sil.yml:2:"), "{text}");
    assert!(text.contains("invalid JMESPath"), "{text}");
    assert!(
        text.contains("sil.yml:5:3: unknown key `matchr`, did you mean `matcher`?\n  |\n5 |   matchr: \"`true`\"\n  |   ^^^^^^"),
        "{text}"
    );
    let source = "- id: a\n  matcher: \"rule == 'x'\"\n  ends_at: tomorrow\n";
    let text = parse("sil.yml", source).unwrap_err().to_string();
    assert!(
        text.starts_with("sil.yml:3:12: `tomorrow` is not an RFC 3339 time"),
        "{text}"
    );
    assert!(
        text.ends_with("3 |   ends_at: tomorrow\n  |            ^\n"),
        "{text}"
    );
}

#[test]
fn matcher_roots_schedules_and_ids_are_validated() {
    let unknown_root =
        "- id: a\n  matcher: \"meta.topic == 'x'\"\n  ends_at: 2026-01-15T12:00:00Z\n";
    let text = parse("s.yml", unknown_root).unwrap_err().to_string();
    assert!(
        text.contains(
            "`meta` is not part of the document (ruleset, rule, event, events, vars, status)"
        ),
        "{text}"
    );
    let bad_zone = "- id: a\n  matcher: \"`true`\"\n  every: {from: \"22:00\", to: \"02:00\", timezone: Mars/Olympus}\n";
    let text = parse("s.yml", bad_zone).unwrap_err().to_string();
    assert!(
        text.starts_with("s.yml:3:49: unknown time zone `Mars/Olympus`"),
        "{text}"
    );
    let no_end = "- id: a\n  matcher: \"`true`\"\n";
    let text = parse("s.yml", no_end).unwrap_err().to_string();
    assert!(text.contains("needs `ends_at`, or `every`"), "{text}");
    let duplicate = "- {id: a, matcher: \"`true`\", ends_at: 2026-01-15T12:00:00Z}\n- {id: a, matcher: \"`true`\", ends_at: 2026-01-15T12:00:00Z}\n";
    let text = parse("s.yml", duplicate).unwrap_err().to_string();
    assert!(
        text.starts_with("s.yml:2:8: duplicate silence id `a`"),
        "{text}"
    );
    assert!(
        parse("s.yml", "# nothing yet\n")
            .unwrap()
            .set
            .silences
            .is_empty()
    );
}

#[test]
fn rendering_reads_back_to_the_same_entries() {
    let file = parse("silences.yml", FILE).unwrap();
    let again = parse("again.yml", &render(&file.specs)).unwrap();
    assert_eq!(again.specs.len(), 3);
    for (a, b) in file.set.silences.iter().zip(&again.set.silences) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.matcher.source(), b.matcher.source());
        assert_eq!(
            (a.starts_at_ms, a.ends_at_ms),
            (b.starts_at_ms, b.ends_at_ms)
        );
        assert_eq!(a.every, b.every);
        assert_eq!((&a.comment, &a.created_by), (&b.comment, &b.created_by));
    }
}

#[test]
fn the_suppressor_checks_inhibition_before_silences() {
    let book = crate::rulebook::compile(
        "book.yml",
        r#"
- name: Uplinks
  match_multiple_rules: true
  inhibit:
    - source: Uplink down
      targets: [High loss]
      equal: [event.networkId]
      for: 15 minutes
  rules:
    - name: Uplink down
      condition: event.status == 'failed'
      action: {debug: {}}
    - name: High loss
      condition: event.lossPercent > `5`
      action: {debug: {}}
"#,
    )
    .unwrap();
    let mut suppressor = Suppressor::new(&book);
    let file = parse("s.yml", FILE).unwrap();
    suppressor.set_silences(Arc::new(file.set));
    let (events, vars) = firing_doc("N_3");
    let firing = |rule| FiringView {
        ruleset: "Uplinks",
        rule,
        events: &events,
        vars: &vars,
        status: FiringStatus::Firing,
    };
    let at = ms("2026-01-15T11:00:00Z");
    assert_eq!(
        suppressor.decide(0, &firing("High loss"), at).reason,
        Some(SuppressReason::Silenced {
            id: "loss-once".into()
        })
    );
    assert_eq!(
        suppressor.decide(0, &firing("Uplink down"), at).reason,
        None
    );
    assert_eq!(
        suppressor.decide(0, &firing("High loss"), at + 1).reason,
        Some(SuppressReason::Inhibited {
            by_rule: "Uplink down".into()
        })
    );
}

#[test]
fn unquoted_times_of_day_and_timestamps_read_as_text() {
    let source = "- id: a\n  matcher: \"`true`\"\n  starts_at: 2026-01-15T10:00:00Z\n  every: {days: weekdays, from: 22:00, to: 06:30}\n";
    let file = parse("s.yml", source).unwrap();
    let silence = &file.set.silences[0];
    assert_eq!(silence.starts_at_ms, Some(ms("2026-01-15T10:00:00Z")));
    assert!(
        silence.is_active(ms("2026-01-16T05:00:00Z")),
        "thursday night"
    );
    assert!(
        !silence.is_active(ms("2026-01-18T05:00:00Z")),
        "saturday night"
    );
}

#[test]
fn rendering_keeps_quotes_backslashes_and_newlines() {
    let source = "- id: \"odd \\\"one\\\"\"\n  matcher: \"event.name == 'a\\\\b'\"\n  ends_at: 2026-01-15T12:00:00Z\n  comment: \"two\\nlines: # not a comment\"\n";
    let file = parse("s.yml", source).unwrap();
    let again = parse("again.yml", &render(&file.specs)).unwrap();
    let (a, b) = (&file.set.silences[0], &again.set.silences[0]);
    assert_eq!(b.id, "odd \"one\"");
    assert_eq!(a.matcher.source(), b.matcher.source());
    assert_eq!(b.comment.as_deref(), Some("two\nlines: # not a comment"));
}

fn inhibiting_book(other_ruleset_first: bool, active_for: &str) -> crate::rulebook::Rulebook {
    let other = "- name: Other\n  rules:\n    - name: x\n      condition: event.x\n      action: {debug: {}}\n";
    let uplinks = format!(
        r#"- name: Uplinks
  inhibit:
    - source: Uplink down
      targets: [High loss]
      equal: [event.networkId]
      for: {active_for}
  rules:
    - name: Uplink down
      condition: event.status == 'failed'
      action: {{debug: {{}}}}
    - name: High loss
      condition: event.lossPercent > `5`
      action: {{debug: {{}}}}
"#
    );
    let source = if other_ruleset_first {
        format!("{other}{uplinks}")
    } else {
        uplinks
    };
    crate::rulebook::compile("book.yml", &source).unwrap()
}

#[test]
fn a_reload_keeps_inhibition_state_of_unchanged_inhibit_rules_only() {
    let (events, vars) = firing_doc("N_3");
    let firing = |rule| FiringView {
        ruleset: "Uplinks",
        rule,
        events: &events,
        vars: &vars,
        status: FiringStatus::Firing,
    };
    let at = ms("2026-01-15T11:00:00Z");
    let inhibited = Some(SuppressReason::Inhibited {
        by_rule: "Uplink down".into(),
    });
    let old = inhibiting_book(false, "15 minutes");
    let mut suppressor = Suppressor::new(&old);
    suppressor.decide(0, &firing("Uplink down"), at);

    // The ruleset moved to index 1, its inhibit rules unchanged: the source is still active.
    let moved = inhibiting_book(true, "15 minutes");
    suppressor.reload(&old, &moved);
    assert_eq!(
        suppressor.decide(1, &firing("High loss"), at + 1).reason,
        inhibited
    );

    // A changed inhibit rule starts empty.
    let changed = inhibiting_book(true, "20 minutes");
    suppressor.reload(&moved, &changed);
    assert_eq!(
        suppressor.decide(1, &firing("High loss"), at + 2).reason,
        None
    );
}
