//! One compiled JMESPath condition: bounded in size, parsed once at load, its calls checked against
//! their signatures (`calls`) and its root names against the document (`roots`), then evaluated many
//! times with `jmespath::interpret` on a shared document.

use std::sync::LazyLock;

use jmespath::ast::Ast;
use jmespath::{Context, Rcvar, Runtime};

use super::calls;
use super::fast::Fast;
use super::functions;
use super::roots::{self, ROOTS};

/// The runtime every condition is compiled for: JMESPath builtins plus semaphore's functions.
pub(super) static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    functions::register(&mut runtime);
    runtime
});

/// Why an expression cannot be compiled; `offset` counts characters into the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    #[error("invalid JMESPath: {message}")]
    Syntax { offset: usize, message: String },
    #[error("unknown function `{name}()`{}", suggestion.as_ref().map(|s| format!(", did you mean `{s}()`?")).unwrap_or_default())]
    UnknownFunction {
        offset: usize,
        name: String,
        suggestion: Option<String>,
    },
    #[error("{message}")]
    BadArgument { offset: usize, message: String },
    #[error("`{name}` is not part of the document ({roots}){hint}")]
    UnknownRoot {
        offset: usize,
        name: String,
        roots: String,
        hint: String,
    },
    #[error(
        "the expression nests brackets more than {MAX_NESTING} deep; split it into several rules or conditions"
    )]
    TooDeep { offset: usize },
    #[error(
        "the expression has more than {MAX_OPERATORS} operators (`.`, `|`, `||`, `&&`, `!`, comparisons); split it into several rules or conditions"
    )]
    TooLong { offset: usize },
}

/// Brackets (`(`, `[`, `{`) nested deeper than this are refused before parsing: the parser, the
/// load-time checks, evaluation and `--explain` all recurse over the expression, and running out of
/// stack would abort the whole process. Both limits leave room on a 2 MiB thread stack (tokio's
/// workers) even in a debug build; the longest condition shipped or documented has 10 operators.
pub const MAX_NESTING: usize = 32;
/// Operator characters outside quotes: each can add a level to the expression tree (`a.b.c`,
/// `a || b || c` and `!!a` are chains), so this bounds its depth as well as its size.
pub const MAX_OPERATORS: usize = 128;

impl CompileError {
    pub fn offset(&self) -> usize {
        match self {
            CompileError::Syntax { offset, .. }
            | CompileError::UnknownFunction { offset, .. }
            | CompileError::BadArgument { offset, .. }
            | CompileError::UnknownRoot { offset, .. }
            | CompileError::TooDeep { offset }
            | CompileError::TooLong { offset } => *offset,
        }
    }
}

/// Evaluating an expression failed on this document (a wrong type, a bad value for a function).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{expression}`: {message}")]
pub struct EvalError {
    pub expression: String,
    pub message: String,
}

/// A compiled JMESPath expression.
#[derive(Debug, Clone)]
pub struct Expr {
    source: String,
    ast: Ast,
    /// The allocation-free form, for conditions simple enough to have one.
    fast: Option<Fast>,
}

impl Expr {
    pub fn compile(source: &str) -> Result<Expr, CompileError> {
        Expr::compile_for(source, ROOTS)
    }

    /// Like [`Self::compile`], for a document with `extra` top-level names besides [`ROOTS`] (a
    /// window rule's `window`).
    pub fn compile_with(source: &str, extra: &[&str]) -> Result<Expr, CompileError> {
        let roots: Vec<&str> = ROOTS.iter().chain(extra).copied().collect();
        Expr::compile_for(source, &roots)
    }

    /// Compiles an expression for a document whose top-level names are `roots` (silence matchers
    /// see a firing, not an event).
    pub fn compile_for(source: &str, roots: &[&str]) -> Result<Expr, CompileError> {
        let ast = parse(source)?;
        calls::check(source, &ast)?;
        roots::check(source, &ast, roots)?;
        Ok(Expr {
            source: source.to_owned(),
            fast: Fast::compile(&ast),
            ast,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub(super) fn ast(&self) -> &Ast {
        &self.ast
    }

    /// The fields read as `root.NAME`, each with the offset of `NAME` (in characters): which window
    /// values a condition uses, so that a misspelt one fails at load time.
    pub fn fields_under(&self, root: &str) -> Vec<(usize, String)> {
        let mut found = Vec::new();
        visit(&self.ast, &mut |node| {
            if let Ast::Subexpr { lhs, rhs, .. } = node
                && matches!(&**lhs, Ast::Field { name, .. } if name == root)
                && let Ast::Field { offset, name } = &**rhs
            {
                found.push((char_offset(&self.source, *offset), name.clone()));
            }
        });
        found
    }

    /// Adds to `needed` (over the document's top-level names) what evaluating this expression
    /// reads of the document: which parts of a payload must be decoded for it.
    pub fn add_reads(&self, needed: &mut crate::event::Needed) {
        super::reads::add(&self.ast, needed);
    }

    /// The part of the condition that does not read `root`: the operands of its top-level `&&`
    /// chain that never name it, joined again (the whole condition when it never does); `None` when
    /// every operand does. Whenever the condition is true, this part is true too, whatever `root`
    /// holds: it can pre-filter events before the values under `root` are known (an `all:`
    /// sub-condition that compares with `events.m_0`).
    pub fn independent_of(&self, root: &str) -> Option<Expr> {
        if !names(&self.ast, root) {
            return Some(self.clone());
        }
        let mut operands = Vec::new();
        conjuncts(&self.ast, &mut operands);
        let kept: Vec<&Ast> = operands
            .into_iter()
            .filter(|node| !names(node, root))
            .collect();
        if kept.is_empty() {
            return None;
        }
        let text: Vec<String> = kept
            .iter()
            .map(|node| format!("({})", super::print::text(node)))
            .collect();
        Expr::compile(&text.join(" && ")).ok()
    }

    /// The expression's value on `doc`.
    pub fn search(&self, doc: &Rcvar) -> Result<Rcvar, EvalError> {
        self.search_node(&self.ast, doc)
    }

    /// JMESPath truthiness of the value: false, null, "", [] and {} are false.
    pub fn is_true(&self, doc: &Rcvar) -> Result<bool, EvalError> {
        match &self.fast {
            Some(fast) => Ok(fast.is_true(doc)),
            None => self.search(doc).map(|value| value.is_truthy()),
        }
    }

    pub(super) fn search_node(&self, node: &Ast, doc: &Rcvar) -> Result<Rcvar, EvalError> {
        let mut context = Context::new(&self.source, &RUNTIME);
        jmespath::interpret(doc, node, &mut context).map_err(|err| EvalError {
            expression: self.source.clone(),
            message: err.reason.to_string(),
        })
    }
}

fn parse(source: &str) -> Result<Ast, CompileError> {
    if source.trim().is_empty() {
        return Err(CompileError::Syntax {
            offset: 0,
            message: "the expression is empty".into(),
        });
    }
    check_size(source)?;
    jmespath::parse(source).map_err(|err| {
        let reason = err.reason.to_string();
        CompileError::Syntax {
            offset: char_offset(source, err.offset),
            message: with_number_hint(reason.trim_start_matches("Parse error: ")),
        }
    })
}

/// Enforces [`MAX_NESTING`] and [`MAX_OPERATORS`] on the text, skipping quoted parts (`'raw'`,
/// `"identifier"`, `` `literal` ``, each with backslash escapes). Iterative, so it cannot overflow.
fn check_size(source: &str) -> Result<(), CompileError> {
    let (mut depth, mut operators) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (offset, c) in source.chars().enumerate() {
        if let Some(open) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == open => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(CompileError::TooDeep { offset });
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '.' | '|' | '&' | '!' | '<' | '>' | '=' => {
                operators += 1;
                if operators > MAX_OPERATORS {
                    return Err(CompileError::TooLong { offset });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A bare number is not a JMESPath value (`event.loss > 5` does not parse): say how to write it.
fn with_number_hint(message: &str) -> String {
    let number = message
        .split_once("Number(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(number, _)| number);
    match number {
        Some(number) => {
            format!("{message}; a number is a JMESPath literal: write `{number}` in backticks")
        }
        None => message.to_owned(),
    }
}

/// The parser counts bytes; messages and carets count characters.
pub(super) fn char_offset(source: &str, byte: usize) -> usize {
    source
        .get(..byte)
        .map_or(byte, |before| before.chars().count())
}

/// Calls `f` on every node of the tree, parents first.
/// The operands of the `&&` chain at the top of `node` (`node` itself when it is no `&&`).
fn conjuncts<'a>(node: &'a Ast, out: &mut Vec<&'a Ast>) {
    match node {
        Ast::And { lhs, rhs, .. } => {
            conjuncts(lhs, out);
            conjuncts(rhs, out);
        }
        _ => out.push(node),
    }
}

/// Whether a field called `name` appears anywhere in `node`.
fn names(node: &Ast, name: &str) -> bool {
    let mut found = false;
    visit(node, &mut |n| {
        found |= matches!(n, Ast::Field { name: field, .. } if field == name);
    });
    found
}

pub(super) fn visit(ast: &Ast, f: &mut impl FnMut(&Ast)) {
    f(ast);
    match ast {
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            visit(lhs, f);
            visit(rhs, f);
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            visit(predicate, f);
            visit(then, f);
        }
        Ast::Expref { ast: node, .. }
        | Ast::Flatten { node, .. }
        | Ast::Not { node, .. }
        | Ast::ObjectValues { node, .. } => visit(node, f),
        Ast::Function { args, .. } | Ast::MultiList { elements: args, .. } => {
            args.iter().for_each(|arg| visit(arg, f));
        }
        Ast::MultiHash { elements, .. } => elements.iter().for_each(|pair| visit(&pair.value, f)),
        Ast::Identity { .. }
        | Ast::Field { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// tokio's worker threads, where `rules run` evaluates, have 2 MiB of stack.
    const WORKER_STACK: usize = 2 * 1024 * 1024;

    fn at_limit_on_a_worker_stack(source: String) {
        let worker = std::thread::Builder::new().stack_size(WORKER_STACK);
        let handle = worker
            .spawn(move || {
                let expr = Expr::compile(&source).expect("at the limit it compiles");
                let doc =
                    Arc::new(jmespath::Variable::from_json(r#"{"event": {"a": {}}}"#).unwrap());
                let _ = expr.is_true(&doc);
                let _ = crate::condition::explain(&expr, &doc);
            })
            .unwrap();
        handle.join().expect("no stack overflow at the limit");
    }

    #[test]
    fn expressions_at_the_limits_compile_evaluate_and_explain_on_a_worker_stack() {
        let dots = format!("event{}", ".a".repeat(MAX_OPERATORS));
        let nots = format!("{}event.a", "!".repeat(MAX_OPERATORS - 1));
        let ors = vec!["event"; MAX_OPERATORS / 2 + 1].join("||");
        let parens = format!(
            "{}event.a{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        let both = format!(
            "{}{}event{}",
            "(".repeat(MAX_NESTING),
            "!".repeat(MAX_OPERATORS / 2),
            ".a".repeat(MAX_OPERATORS / 2)
        ) + &")".repeat(MAX_NESTING);
        for source in [dots, nots, ors, parens, both] {
            at_limit_on_a_worker_stack(source);
        }
    }

    #[test]
    fn past_the_limits_is_an_error_before_parsing() {
        let parens = format!("{}event{}", "(".repeat(50_000), ")".repeat(50_000));
        let err = Expr::compile(&parens).unwrap_err();
        assert_eq!(
            err,
            CompileError::TooDeep {
                offset: MAX_NESTING
            }
        );
        let ors = vec!["event.a"; 14_000].join(" || ");
        assert!(matches!(
            Expr::compile(&ors),
            Err(CompileError::TooLong { .. })
        ));
        let nots = format!("{}event.a", "!".repeat(20_000));
        let err = Expr::compile(&nots).unwrap_err();
        assert_eq!(
            err,
            CompileError::TooLong {
                offset: MAX_OPERATORS
            }
        );
        assert!(
            err.to_string()
                .starts_with("the expression has more than 128 operators")
        );
        // Quoted text does not count.
        let quoted = format!("event.a == '{}'", "(|.".repeat(5_000));
        assert!(Expr::compile(&quoted).is_ok());
    }
}
