//! Compiling, checking and rendering templates.

use super::*;
use crate::rulebook::action::TEMPLATE_ROOTS;
use crate::rulebook::yaml;

static VARS: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| serde_json::json!({"loss_pct": 5, "team": "noc"}));

fn scope(source: &str) -> Scope<'_> {
    Scope {
        source,
        vars: &VARS,
    }
}

/// The load errors of one `key: 'TEMPLATE'` line, as (column, message).
fn load_errors(template: &str) -> Vec<(u32, String)> {
    let source = format!("k: '{template}'\n");
    let node = yaml::parse(&source).unwrap();
    let mut set = TemplateSet::default();
    match set.compile(&node, "t", scope(&source)) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_iter()
            .map(|err| (err.pos.col, err.message))
            .collect(),
    }
}

fn compile(yaml_text: &str) -> (TemplateSet, TemplateValue) {
    let mut set = TemplateSet::default();
    let source = yaml_text.to_owned();
    let node = yaml::parse(yaml_text).unwrap();
    let value = set.compile(&node, "t", scope(&source)).unwrap();
    (set, value)
}

fn render(
    set: &TemplateSet,
    value: &TemplateValue,
    env: &BTreeMap<String, String>,
) -> Result<Value, RenderError> {
    let context = RenderContext {
        value: minijinja::context! {
            event => serde_json::json!({"serial": "Q2-1", "loss": 7.5, "tags": ["a", "b"]}),
        },
        env,
    };
    set.render(value, &context)
}

#[test]
fn a_single_expression_keeps_its_json_type() {
    let (set, value) =
        compile("{loss: '{{ event.loss }}', tags: '{{ event.tags }}', text: 'x {{ event.loss }}'}");
    let rendered = render(&set, &value, &BTreeMap::new()).unwrap();
    assert_eq!(
        rendered,
        serde_json::json!({"loss": 7.5, "tags": ["a", "b"], "text": "x 7.5"})
    );
}

#[test]
fn python_methods_and_jinja_filters_work() {
    let (set, value) = compile(
        "'{{ event.serial.lower() }} {{ event.tags | join(\", \") }} {{ event.nope | default(\"n/a\") }}'",
    );
    assert_eq!(
        render(&set, &value, &BTreeMap::new()).unwrap(),
        serde_json::json!("q2-1 a, b n/a")
    );
}

#[test]
fn undefined_values_are_errors_not_empty_strings() {
    let (set, value) = compile("'{{ event.missing.deeper }}'");
    assert!(render(&set, &value, &BTreeMap::new()).is_err());
}

#[test]
fn an_unset_environment_variable_is_named_in_the_error() {
    let (set, value) = compile("'{{ env.CHAT_URL }}/post'");
    let err = render(&set, &value, &BTreeMap::new()).unwrap_err();
    assert_eq!(err, RenderError::MissingEnv("CHAT_URL".into()));
    let env = BTreeMap::from([("CHAT_URL".to_owned(), "http://127.0.0.1:1".to_owned())]);
    let context = RenderContext {
        value: minijinja::context! { env => &env },
        env: &env,
    };
    assert_eq!(
        set.render(&value, &context).unwrap(),
        serde_json::json!("http://127.0.0.1:1/post")
    );
}

#[test]
fn syntax_errors_are_reported_at_load_with_the_node_position() {
    let mut set = TemplateSet::default();
    let source = "a: ok\nb: '{{ event.x | }}'\n";
    let node = yaml::parse(source).unwrap();
    let errors = set.compile(&node, "t", scope(source)).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].pos.line, 2);
    assert!(
        errors[0].message.contains("syntax error"),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_root_the_context_does_not_have_is_a_load_error_at_the_name() {
    let errors = load_errors("loss {{ event.loss }} on {{ evnt.serial }}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    // Column 5 is the first character inside the quotes; `evnt` is 28 characters on.
    assert_eq!(errors[0].0, 33);
    assert!(
        errors[0].1.contains("`evnt` is not defined") && errors[0].1.contains("`event`?"),
        "{}",
        errors[0].1
    );
}

#[test]
fn unknown_filters_tests_and_vars_are_load_errors_but_real_ones_pass() {
    let errors = load_errors("{{ event.x | lowr }} {{ event.y is defind }} {{ vars.loss_pc }}");
    let messages: Vec<&str> = errors.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(errors.len(), 3, "{messages:?}");
    assert!(messages[0].contains("no filter `lowr`"), "{}", messages[0]);
    assert!(messages[1].contains("no test `defind`"), "{}", messages[1]);
    assert!(
        messages[2].contains("`vars.loss_pc` is not a var")
            && messages[2].contains("`vars.loss_pct`?"),
        "{}",
        messages[2]
    );
    assert_eq!(errors[0].0, 18);
    let fine = "{{ event.x | lower | default(\"n/a\") }}{% for t in event.tags %}{{ loop.index }} {{ t | upper }}{% endfor %}\
                {% set n = vars.team %}{{ n }} {{ range(3) | list }} {{ event.y is not none }} {{ env.HOME is defined }}";
    assert_eq!(load_errors(fine), Vec::new());
}

#[test]
fn every_root_of_the_firing_context_may_be_used() {
    let all: Vec<String> = TEMPLATE_ROOTS
        .iter()
        .map(|root| format!("{{{{ {root} }}}}"))
        .collect();
    assert_eq!(load_errors(&all.join(" ")), Vec::new());
}

#[test]
fn an_undefined_value_names_the_variable() {
    let (set, value) = compile("'loss {{ event.lossPercnt }}'");
    let err = render(&set, &value, &BTreeMap::new()).unwrap_err();
    assert!(
        err.to_string().contains("`event.lossPercnt` is undefined"),
        "{err}"
    );
    let (set, value) = compile("'{{ event.nope | default(1) }} {{ event.serial.x.y }}'");
    let err = render(&set, &value, &BTreeMap::new()).unwrap_err();
    assert!(
        err.to_string().contains("`event.serial.x` is undefined"),
        "{err}"
    );
    let (set, value) = compile("'{{ event.missing }}'");
    let err = render(&set, &value, &BTreeMap::new()).unwrap_err();
    assert!(
        err.to_string().contains("`event.missing` is undefined"),
        "{err}"
    );
}
