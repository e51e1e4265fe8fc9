//! What a compiled rulebook's rules read of an event (its payload, and whether its meta): the union, over every expression
//! evaluated on the event document (conditions, throttle and window `group_by`, window `value`,
//! `change`, `fire_when`, `resolve_when`), of what each reads of `event` and `meta`. Found once at load, it is
//! the plan the decoder follows on the hot path. Templates, state and firings are not here: they
//! take the whole payload, built on demand.

use crate::condition::Expr;
use crate::event::{Needed, Reads};

use super::{Rule, RuleCondition, Ruleset, WindowForm};

/// What the rules of `rulesets` read of an event's payload and meta. A ruleset that splits batched records reads
/// them whole: their elements and siblings become events and `meta.batch`.
pub fn event_reads(rulesets: &[Ruleset]) -> Reads {
    let splits = rulesets
        .iter()
        .flat_map(|ruleset| &ruleset.sources)
        .any(|source| source.split_on.is_some());
    if splits {
        return Reads::everything();
    }
    let mut document = Needed::nothing();
    for rule in rulesets.iter().flat_map(|ruleset| &ruleset.rules) {
        for expr in on_the_event(rule) {
            expr.add_reads(&mut document);
        }
    }
    Reads::of_document(&document)
}

/// Every expression of `rule` that the engine evaluates on the event document. An expression
/// added to the model and evaluated there must be listed here too, or it reads a pruned payload.
fn on_the_event(rule: &Rule) -> Vec<&Expr> {
    let mut found: Vec<&Expr> = match &rule.condition {
        RuleCondition::Single(expr) => vec![expr],
        RuleCondition::Any(exprs)
        | RuleCondition::All {
            conditions: exprs, ..
        }
        | RuleCondition::NotAll {
            conditions: exprs, ..
        } => exprs.iter().collect(),
    };
    if let Some(throttle) = &rule.throttle {
        found.extend(&throttle.group_by);
    }
    if let Some(window) = &rule.window {
        found.extend(&window.group_by);
        if let WindowForm::Change(expr) = &window.form {
            found.push(expr);
        }
        found.extend(
            window
                .value
                .iter()
                .chain(&window.fire_when)
                .chain(&window.resolve_when),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use crate::event::{Needed, Reads};

    fn reads(rules: &str) -> Reads {
        let yaml = format!("- name: rs\n  vars: {{x: 1}}\n  rules:\n{rules}");
        crate::rulebook::compile("t.yml", &yaml)
            .expect("a valid rulebook")
            .reads
    }

    fn fields(names: &[&str]) -> Needed {
        let mut needed = Needed::nothing();
        for name in names {
            needed.require(name.split('.'));
        }
        needed
    }

    #[test]
    fn conditions_group_keys_and_windows_are_read() {
        let found = reads(
            "    - name: a
      condition: event.a.b > vars.x
      throttle: {once_within: 1 minute, group_by: [event.host]}
      action: {none: {}}
    - name: w
      condition: event.loss != `null`
      window:
        group_by: [event.serial]
        size: 1 minute
        value: event.loss
        fire_when: window.count > `1` && event.severity == 'high'
      resolve_when: window.avg < `1`
      action: {none: {}}
    - name: c
      condition: event.up
      window:
        change: event.state
      action: {none: {}}
    - name: any rule
      condition:
        any: [event.up, event.down.since]
      action: {none: {}}
",
        );
        let expected = fields(&[
            "a.b",
            "host",
            "loss",
            "serial",
            "severity",
            "up",
            "down.since",
            "state",
        ]);
        assert_eq!(found.payload, expected);
        assert!(!found.meta, "nothing reads meta");
        let meta =
            reads("    - name: a\n      condition: meta.topic == 'x'\n      action: {none: {}}\n");
        assert_eq!((meta.payload, meta.meta), (Needed::nothing(), true));
    }

    #[test]
    fn a_rule_on_the_whole_event_or_a_split_source_reads_everything() {
        let whole = reads(
            "    - name: a\n      condition: length(keys(event)) > `2`\n      action: {none: {}}\n",
        );
        assert!(whole.payload.is_whole());
        let yaml = "- name: rs
  sources:
    - kafka: {topic: t, split_on: items}
  rules:
    - name: a
      condition: event.a
      action: {none: {}}
";
        let book = crate::rulebook::compile("t.yml", yaml).expect("a valid rulebook");
        assert_eq!(book.reads, Reads::everything());
    }
}
