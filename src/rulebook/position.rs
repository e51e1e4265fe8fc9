//! Maps a character offset inside a YAML string scalar back to a line and column of the file, so that a
//! JMESPath error points into the condition itself. Plain and quoted one-line scalars are exact; for
//! other forms (block scalars, escapes before the offset) it falls back to the scalar's start.

use super::yaml::Pos;

pub fn inside_scalar(source: &str, start: Pos, text: &str, offset: usize) -> Pos {
    let Some(line) = start
        .line
        .checked_sub(1)
        .and_then(|i| source.lines().nth(i as usize))
    else {
        return start;
    };
    let rest: String = line
        .chars()
        .skip(start.col.saturating_sub(1) as usize)
        .collect();
    let prefix: String = text.chars().take(offset).collect();
    if prefix.contains('\n') {
        return start;
    }
    let quote_width = match rest.chars().next() {
        Some('\'' | '"') => 1,
        _ => 0,
    };
    let written: String = rest
        .chars()
        .skip(quote_width)
        .take(prefix.chars().count())
        .collect();
    if written != prefix {
        return start;
    }
    let shift = u32::try_from(quote_width + prefix.chars().count()).unwrap_or(0);
    Pos {
        line: start.line,
        col: start.col + shift,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_quoted_scalars_map_exactly() {
        let source = "condition: event.a > \nq: 'event.b >'\n";
        assert_eq!(
            inside_scalar(source, Pos { line: 1, col: 12 }, "event.a > ", 8),
            Pos { line: 1, col: 20 }
        );
        assert_eq!(
            inside_scalar(source, Pos { line: 2, col: 4 }, "event.b >", 8),
            Pos { line: 2, col: 13 }
        );
    }

    #[test]
    fn block_scalars_fall_back_to_the_start() {
        let source = "c: |\n  event.a >\n";
        let start = Pos { line: 1, col: 4 };
        assert_eq!(inside_scalar(source, start, "event.a >\n", 8), start);
    }
}
