//! Test support: evaluates an expression as the engine does, with `jmespath::interpret` on a runtime
//! holding the builtins and the custom functions.

use std::sync::LazyLock;

use jmespath::{Context, Rcvar, Runtime, SearchResult, Variable, interpret};

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    super::register(&mut runtime);
    runtime
});

fn search(expression: &str, data: &str) -> SearchResult {
    let compiled = RUNTIME.compile(expression)?;
    let data = Rcvar::new(Variable::from_json(data).expect("test data is JSON"));
    let mut ctx = Context::new(expression, &RUNTIME);
    interpret(&data, compiled.as_ast(), &mut ctx)
}

/// The result of `expression` on the JSON `data`, as JSON.
pub(super) fn eval(expression: &str, data: &str) -> serde_json::Value {
    let result = search(expression, data).expect("expression evaluates");
    serde_json::to_value(&*result).expect("results serialise")
}

/// The rendered error of `expression` on the JSON `data`.
pub(super) fn error(expression: &str, data: &str) -> String {
    match search(expression, data) {
        Ok(result) => panic!("{expression} gave {result}, expected an error"),
        Err(error) => error.to_string(),
    }
}
