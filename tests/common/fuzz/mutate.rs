//! Byte-level damage to a valid-ish document: truncation, duplicated, dropped and swapped lines,
//! indentation shifted or turned into tabs, keys renamed, values replaced, and inserted tokens that
//! parsers find hard (NUL, byte-order marks, bidi controls, huge numbers, tags, anchors, aliases,
//! merges, document markers), deep nesting and alias bombs ("billion laughs").

use super::Rng;

/// Tokens inserted at random places.
const TOKENS: [&str; 40] = [
    "\0",
    "é",
    "🦀",
    "\u{202e}",
    "\u{feff}",
    "\r",
    "\t",
    "\r\n",
    "99999999999999999999999999",
    "1e400",
    "-0",
    ".nan",
    ".inf",
    "&a ",
    "*a",
    "<<: *a\n",
    "*undefined",
    "!!binary ",
    "!!python/object:os.system ",
    "!custom ",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "? ",
    ": ",
    "- ",
    "{",
    "[",
    "}",
    "]",
    "'",
    "\"",
    "#",
    "|\n",
    ">-\n",
    "{{",
    "}}",
    "{%",
    "`",
    "\\",
];

/// Keys of rulebooks and silences files, and near misses of them.
const KEYS: [&str; 24] = [
    "name",
    "rules",
    "condition",
    "action",
    "actions",
    "throttle",
    "window",
    "sources",
    "vars",
    "all",
    "any",
    "not_all",
    "timeout",
    "group_by",
    "once_within",
    "fire_when",
    "matcher",
    "ends_at",
    "every",
    "id",
    "conditon",
    "<<",
    "",
    "ünïcode",
];

/// How many bytes one mutation may add.
const MAX_GROWTH: usize = 1 << 20;

/// `text` with one to four mutations applied.
pub fn mutate(rng: &mut Rng, text: &[u8]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    for _ in 0..rng.between(1, 4) {
        bytes = mutate_once(rng, bytes);
    }
    bytes
}

fn mutate_once(rng: &mut Rng, bytes: Vec<u8>) -> Vec<u8> {
    let mut lines = split_lines(&bytes);
    // Weights out of 100; the costly ones (alias bombs, deep nesting, a line repeated) are rare,
    // so that a default run covers many cases and still meets each a few times.
    match rng.below(100) {
        0..10 => {
            let at = rng.below(bytes.len() + 1);
            return bytes[..at].to_vec();
        }
        10..22 if !lines.is_empty() => {
            let at = rng.below(lines.len());
            let line = lines[at].clone();
            lines.insert(at, line);
        }
        22..32 if !lines.is_empty() => {
            lines.remove(rng.below(lines.len()));
        }
        32..42 if lines.len() > 1 => {
            let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(a, b);
        }
        42..54 if !lines.is_empty() => shift_indentation(rng, &mut lines),
        54..68 => {
            let token = *rng.pick(&TOKENS);
            return insert(rng, &bytes, token.as_bytes());
        }
        68..78 if !lines.is_empty() => rename_key(rng, &mut lines),
        78..86 if !lines.is_empty() => replace_value(rng, &mut lines),
        86..88 => {
            let laughs = billion_laughs(rng);
            return insert(rng, &bytes, laughs.as_bytes());
        }
        88..91 => {
            let nesting = deep_nesting(rng);
            return insert(rng, &bytes, nesting.as_bytes());
        }
        91..93 if !lines.is_empty() => {
            let at = rng.below(lines.len());
            let line = lines[at].clone();
            // Many copies, but not past about a megabyte: size alone is not what is tested.
            let copies = (*rng.pick(&[10, 1_000, 20_000])).min(MAX_GROWTH / line.len().max(1));
            lines.splice(at..at, std::iter::repeat_n(line, copies));
        }
        93..97 if !bytes.is_empty() => {
            let mut bytes = bytes;
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
            return bytes;
        }
        _ => {
            let byte = rng.below(256) as u8;
            return insert(rng, &bytes, &[byte]);
        }
    }
    lines.concat()
}

/// Lines with their `\n`, so that joining them gives the text back.
fn split_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn insert(rng: &mut Rng, bytes: &[u8], token: &[u8]) -> Vec<u8> {
    let at = rng.below(bytes.len() + 1);
    [&bytes[..at], token, &bytes[at..]].concat()
}

fn shift_indentation(rng: &mut Rng, lines: &mut [Vec<u8>]) {
    let line = rng.below(lines.len());
    let text = &mut lines[line];
    let prefix: &[u8] = match rng.below(4) {
        0 => b"  ",
        1 => b" ",
        2 => b"\t",
        _ => {
            let spaces = text.iter().take_while(|&&b| b == b' ').count().min(2);
            text.drain(..spaces);
            return;
        }
    };
    text.splice(0..0, prefix.iter().copied());
}

/// Replaces the key of a `key:` line with another key or a near miss.
fn rename_key(rng: &mut Rng, lines: &mut [Vec<u8>]) {
    let line = rng.below(lines.len());
    let text = String::from_utf8_lossy(&lines[line]).into_owned();
    let Some(colon) = text.find(':') else {
        return;
    };
    let start = text[..colon]
        .rfind([' ', '-', '{', ','])
        .map_or(0, |i| i + 1);
    let renamed = format!("{}{}{}", &text[..start], rng.pick(&KEYS), &text[colon..]);
    lines[line] = renamed.into_bytes();
}

/// Replaces what follows the first `: ` of a line with a hard token.
fn replace_value(rng: &mut Rng, lines: &mut [Vec<u8>]) {
    let line = rng.below(lines.len());
    let text = String::from_utf8_lossy(&lines[line]).into_owned();
    let Some(colon) = text.find(": ") else {
        return;
    };
    let value = *rng.pick(&[
        "~",
        "[]",
        "{}",
        "-1",
        "99999999999999999999999999",
        "1e400",
        "*a",
        "&a x",
        "!!str 5",
        "\"\\ud800\"",
        "'unterminated",
        "|",
    ]);
    lines[line] = format!("{}: {value}\n", &text[..colon]).into_bytes();
}

/// Anchors that each reference the previous one ten times: small text, an exponential tree.
fn billion_laughs(rng: &mut Rng) -> String {
    // Mostly small; past five levels the parser's node limit (250,000) stops it.
    let levels = if rng.one_in(4) {
        rng.between(5, 9)
    } else {
        rng.between(2, 4)
    };
    let mut text = String::from(
        "\n- laughs:\n    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for level in 1..levels {
        let refs = vec![format!("*l{}", level - 1); 10].join(", ");
        text.push_str(&format!("    l{level}: &l{level} [{refs}]\n"));
    }
    text
}

/// Flow or block collections nested near and past the YAML parser's depth limit.
fn deep_nesting(rng: &mut Rng) -> String {
    let depth = *rng.pick(&[63, 64, 65, 128, 1_000, 50_000]);
    match rng.below(3) {
        0 => format!("{}x{}", "[".repeat(depth), "]".repeat(depth)),
        1 => format!("{}x{}", "{a: ".repeat(depth), "}".repeat(depth)),
        _ => {
            let depth = depth.min(2_000);
            (0..depth)
                .map(|level| format!("{}- \n", " ".repeat(level * 2)))
                .collect()
        }
    }
}
