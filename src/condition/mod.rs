//! Conditions: JMESPath expressions compiled once at load ([`Expr`]), evaluated against the document
//! `{event, events, meta, vars, facts}`, plus semaphore's custom functions ([`functions`]) and the
//! `--explain` reasons ([`explain`]) with expressions printed back as JMESPath ([`expression_text`]),
//! every function's signature, checked at load, what of the document each expression reads
//! ([`Expr::add_reads`]), the warnings about valid but almost surely wrong conditions ([`lint`]), and
//! the "did you mean" of every located error ([`suggest`]). It owns expression semantics, not rules
//! or state.

mod calls;
mod explain;
mod expr;
mod fast;
pub mod functions;
pub(crate) mod fuzzy;
mod lint;
mod print;
mod reads;
mod roots;
mod signature;
pub mod suggest;
mod time;

pub use explain::explain;
pub use expr::{CompileError, EvalError, Expr};
pub use functions::with_clock;
pub use lint::{Lint, lint};
pub use print::printed as expression_text;
pub use roots::ROOTS;
