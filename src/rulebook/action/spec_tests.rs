//! Load-time checks of action arguments, webhook presets above all.

use super::*;
use crate::rulebook::de::from_node;
use crate::rulebook::yaml;

fn check(text: &str) -> Result<(), String> {
    let node = yaml::parse(text).unwrap();
    from_node::<ActionSpec>(&node)
        .map(drop)
        .map_err(|err| err.message)
}

#[test]
fn presets_take_their_own_arguments_only() {
    assert_eq!(check("webhook: {preset: slack, url: u, text: t}"), Ok(()));
    assert_eq!(
        check("webhook: {preset: pagerduty, routing_key: k, text: t, severity: info}"),
        Ok(())
    );
    assert_eq!(
        check("webhook: {preset: slack, url: u, text: t, severity: info}").unwrap_err(),
        "`severity` is not an argument of preset slack; it takes text"
    );
    assert_eq!(
        check("webhook: {url: u, text: t}").unwrap_err(),
        "`text` is a preset argument: add `preset:` (slack, teams, webex, pagerduty, servicenow) or put it in `body`"
    );
}

#[test]
fn presets_need_their_keys_and_a_literal_name() {
    assert_eq!(
        check("webhook: {preset: slack, text: t}").unwrap_err(),
        "preset slack needs `url`"
    );
    assert_eq!(
        check("webhook: {preset: webex, text: t, room_id: r}").unwrap_err(),
        "preset webex needs `auth` (credentials from environment variables)"
    );
    assert_eq!(
        check("webhook: {preset: teams, url: u}").unwrap_err(),
        "preset teams needs `text`"
    );
    assert!(
        check("webhook: {preset: '{{ vars.p }}', url: u}")
            .unwrap_err()
            .contains("written literally")
    );
    assert!(
        check("webhook: {preset: slak, url: u}")
            .unwrap_err()
            .starts_with("unknown preset `slak`")
    );
    assert_eq!(
        check("webhook: {body: {}}").unwrap_err(),
        "missing required key `url`"
    );
}

#[test]
fn unknown_keys_are_still_reported_with_a_suggestion() {
    assert_eq!(
        check("webhook: {url: u, hedaers: {}}").unwrap_err(),
        "unknown key `hedaers`, did you mean `headers`?"
    );
}

#[test]
fn an_action_without_its_required_arguments_is_located_at_its_name() {
    // `- publish:` has no arguments at all: they are read as an empty mapping with no place of
    // its own, so the error goes to the action's name, not to line 0.
    for (text, missing) in [
        ("publish:", "topic"),
        ("command:", "argv"),
        ("run_playbook: ~", "name"),
        ("set_fact:", "fact"),
        ("\n  post_event:", "event"),
    ] {
        let node = yaml::parse(text).unwrap();
        let err = from_node::<ActionSpec>(&node).map(drop).unwrap_err();
        assert_eq!(err.message, format!("missing required key `{missing}`"));
        let line = if text.starts_with('\n') { 2 } else { 1 };
        let col = if line == 2 { 3 } else { 1 };
        assert_eq!(err.pos, Some(yaml::Pos { line, col }), "{text}");
    }
    // With arguments, the error stays at them.
    let node = yaml::parse("publish:\n  key: k\n").unwrap();
    let err = from_node::<ActionSpec>(&node).map(drop).unwrap_err();
    assert_eq!(err.pos, Some(yaml::Pos { line: 2, col: 3 }));
}
