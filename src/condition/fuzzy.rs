//! fuzzywuzzy-compatible string similarity: `fuzz.ratio` and `fuzz.partial_ratio`, scores 0–100.
//!
//! This module owns the algorithms only; it knows nothing of JMESPath (argument checks and the
//! length limit are enforced by `condition::functions`).
//!
//! Which fuzzywuzzy: the one installed as `fuzzywuzzy[speedup]`, i.e. with python-Levenshtein
//! (0.27, built on rapidfuzz). That is the install fuzzywuzzy recommends, and its pure-Python
//! difflib fallback gives other numbers: difflib's greedy matching is not a longest common
//! subsequence, so `partial_ratio("abcd", "dcba")` is 29 with python-Levenshtein, 40 with difflib.
//! Concretely:
//! - `ratio` is `round(100 · (1 − indel_distance / (len_a + len_b)))`, rounding half to even;
//! - `partial_ratio` slides the shorter string over the windows of the longer one that start where
//!   the Levenshtein alignment (rapidfuzz's: its tie-breaking decides the windows) puts a matching
//!   block.
//!
//! Lengths count Unicode scalar values, as Python's `len(str)` does.

use std::collections::HashMap;

/// Longest string, in characters, the functions accept. Up to this size rapidfuzz aligns with a
/// full bit matrix (it switches to Hirschberg's algorithm, with other tie-breaking, once
/// `len_a · len_b / 4 ≥ 2^20`), so results match Python exactly; it also bounds the quadratic cost.
pub(super) const MAX_CHARS: usize = 2047;
const _: () = assert!(2 * MAX_CHARS * MAX_CHARS / 8 < 1 << 20);

/// fuzzywuzzy `fuzz.ratio(a, b)`.
pub(crate) fn ratio(a: &str, b: &str) -> u8 {
    if a == b {
        return 100;
    }
    let (a, b) = (chars(a), chars(b));
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    percent(Pattern::new(&a).ratio(&b))
}

/// fuzzywuzzy `fuzz.partial_ratio(a, b)`.
pub(crate) fn partial_ratio(a: &str, b: &str) -> u8 {
    if a == b {
        return 100;
    }
    let (a, b) = (chars(a), chars(b));
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let (shorter, longer) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let pattern = Pattern::new(&shorter);
    let mut best: f64 = 0.0;
    for block in matching_blocks(&shorter, &longer) {
        let start = block.dest.saturating_sub(block.src);
        let end = (start + shorter.len()).min(longer.len());
        let score = pattern.ratio(longer.get(start..end).unwrap_or_default());
        // fuzzywuzzy's early exit; any such score rounds to 100 anyway.
        if score > 0.995 {
            return 100;
        }
        best = best.max(score);
    }
    percent(best)
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// Python's `int(round(100 * r))`: ties go to the even integer.
fn percent(r: f64) -> u8 {
    (100.0 * r).round_ties_even() as u8
}

/// Bit-parallel longest common subsequence against one fixed string (Hyyrö's algorithm), so that
/// the many windows of `partial_ratio` cost `len² / 64` each.
struct Pattern {
    len: usize,
    masks: HashMap<char, Vec<u64>>,
}

impl Pattern {
    fn new(pattern: &[char]) -> Self {
        let words = pattern.len().div_ceil(64);
        let mut masks = HashMap::new();
        for (i, c) in pattern.iter().enumerate() {
            let mask = masks.entry(*c).or_insert_with(|| vec![0u64; words]);
            mask[i / 64] |= 1 << (i % 64);
        }
        Self {
            len: pattern.len(),
            masks,
        }
    }

    /// rapidfuzz `Indel.normalized_similarity`, with its exact floating-point steps.
    fn ratio(&self, text: &[char]) -> f64 {
        let total = self.len + text.len();
        if total == 0 {
            return 1.0;
        }
        let distance = total - 2 * self.lcs(text);
        1.0 - distance as f64 / total as f64
    }

    /// Each step is `V = (V + (V & M)) | (V & !M)` over multi-word integers; the zero bits of `V`
    /// end up counting the common subsequence.
    fn lcs(&self, text: &[char]) -> usize {
        let mut v = vec![u64::MAX; self.len.div_ceil(64)];
        for mask in text.iter().filter_map(|c| self.masks.get(c)) {
            let mut carry = false;
            for (word, m) in v.iter_mut().zip(mask) {
                let (sum, c1) = word.overflowing_add(*word & m);
                let (sum, c2) = sum.overflowing_add(u64::from(carry));
                carry = c1 || c2;
                *word = sum | (*word & !m);
            }
        }
        (0..self.len)
            .filter(|i| v[i / 64] & (1 << (i % 64)) == 0)
            .count()
    }
}

/// A run of equal characters: `a[src..src + len] == b[dest..dest + len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    src: usize,
    dest: usize,
    len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Delete,
    Insert,
    Replace,
}

/// One edit at `a[src]` / `b[dest]`, as rapidfuzz's `Editop`.
#[derive(Debug, Clone, Copy)]
struct EditOp {
    edit: Edit,
    src: usize,
    dest: usize,
}

/// python-Levenshtein `matching_blocks(opcodes(a, b), a, b)`, ending with the sentinel
/// `(len_a, len_b, 0)`.
fn matching_blocks(a: &[char], b: &[char]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let (mut src, mut dest) = (0, 0);
    for op in editops(a, b) {
        let len = op.src.saturating_sub(src).min(op.dest.saturating_sub(dest));
        if len > 0 {
            blocks.push(Block { src, dest, len });
        }
        (src, dest) = match op.edit {
            Edit::Delete => (op.src + 1, op.dest),
            Edit::Insert => (op.src, op.dest + 1),
            Edit::Replace => (op.src + 1, op.dest + 1),
        };
    }
    let len = a
        .len()
        .saturating_sub(src)
        .min(b.len().saturating_sub(dest));
    if len > 0 {
        blocks.push(Block { src, dest, len });
    }
    blocks.push(Block {
        src: a.len(),
        dest: b.len(),
        len: 0,
    });
    blocks
}

/// rapidfuzz `Levenshtein.editops(a, b)`: strip the common affix, then walk back through the
/// matrix preferring deletion, then insertion, then the diagonal, as its `recover_alignment` does.
fn editops(a: &[char], b: &[char]) -> Vec<EditOp> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    let deltas = Deltas::new(a, b);
    let mut ops = Vec::new();
    let mut push = |edit, src: usize, dest: usize| {
        ops.push(EditOp {
            edit,
            src: src + prefix,
            dest: dest + prefix,
        })
    };
    let (mut col, mut row) = (a.len(), b.len());
    while row > 0 && col > 0 {
        if deltas.get(row - 1, col - 1) > 0 {
            col -= 1;
            push(Edit::Delete, col, row);
            continue;
        }
        row -= 1;
        if row > 0 && deltas.get(row - 1, col - 1) < 0 {
            push(Edit::Insert, col, row);
        } else {
            col -= 1;
            if a[col] != b[row] {
                push(Edit::Replace, col, row);
            }
        }
    }
    while col > 0 {
        col -= 1;
        push(Edit::Delete, col, row);
    }
    while row > 0 {
        row -= 1;
        push(Edit::Insert, col, row);
    }
    ops.reverse();
    ops
}

/// The vertical deltas `D[i+1][j+1] − D[i][j+1]` of the Levenshtein matrix of `a` (i) against
/// `b` (j): the information rapidfuzz keeps as its `VP` (+1) and `VN` (−1) bit vectors.
struct Deltas {
    width: usize,
    cells: Vec<i8>,
}

impl Deltas {
    fn new(a: &[char], b: &[char]) -> Self {
        let mut cells = Vec::with_capacity(a.len() * b.len());
        let mut previous: Vec<usize> = (0..=a.len()).collect();
        let mut current = vec![0; a.len() + 1];
        for (j, bc) in b.iter().enumerate() {
            current[0] = j + 1;
            for (i, ac) in a.iter().enumerate() {
                let diagonal = previous[i] + usize::from(ac != bc);
                current[i + 1] = diagonal.min(previous[i + 1] + 1).min(current[i] + 1);
                cells.push(current[i + 1].cmp(&current[i]) as i8);
            }
            std::mem::swap(&mut previous, &mut current);
        }
        Self {
            width: a.len(),
            cells,
        }
    }

    fn get(&self, row: usize, col: usize) -> i8 {
        self.cells
            .get(row * self.width + col)
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (a, b, fuzz.ratio, fuzz.partial_ratio) from fuzzywuzzy 0.18.0 with python-Levenshtein
    /// 0.27.5 (rapidfuzz 3.14.6) on CPython 3.11. Rows marked `difflib` score otherwise without
    /// python-Levenshtein; the `x`/`y` rows score exactly 12.5, 37.5, 62.5 and 87.5, which Python
    /// rounds half to even.
    const PYTHON: &[(&str, &str, u8, u8)] = &[
        ("", "", 100, 100),
        ("", "abc", 0, 0),
        ("abc", "ABC", 0, 0),
        ("Hello", "hello", 80, 80),
        ("this is a test", "this is a test!", 97, 100),
        ("fuzzy wuzzy was a bear", "wuzzy fuzzy was a bear", 91, 91),
        ("new york mets", "new york meats", 96, 92),
        ("YANKEES", "NEW YORK YANKEES", 61, 100),
        (
            "new york mets vs atlanta braves",
            "atlanta braves vs new york mets",
            45,
            48,
        ), // difflib: (45, 45)
        ("abcd", "dcba", 25, 29), // difflib: (25, 40)
        ("ab", "ba", 50, 67),
        ("ab", "abcdef", 50, 100),
        ("abc", "xabcx", 75, 100),
        ("abcd", "XXXbcdeEEE", 43, 75),
        ("core-sw-01", "core-sw-02", 90, 90),
        ("GigabitEthernet0/1", "GigabitEthernet0/10", 97, 100),
        ("Gi0/1", "GigabitEthernet0/1", 43, 60),
        ("uplink down", "Uplink Down on MX84 wan1", 51, 82),
        ("wan1", "wan2", 75, 75),
        ("MX84", "mx84", 50, 50),
        ("café", "cafe", 75, 75),
        ("naïve", "naive", 80, 80),
        ("日本語", "日本", 80, 100),
        ("Straße", "STRASSE", 15, 17),
        ("😀 ok", "😀 okay", 80, 100),
        ("abcdefgh", "abcdxxxx", 50, 50),
        ("abcdefghij", "abcdefghi", 95, 100),
        ("aaaa", "aa", 67, 100),
        ("kitten", "sitting", 62, 67),
        ("1234567", "7654321", 14, 14), // difflib: (14, 25)
        ("a b c", "abc", 75, 67),
        ("   ", " ", 50, 100),
        ("loss 5%", "loss 50%", 93, 86),
        ("10.0.0.1", "10.0.0.10", 94, 100),
        (
            "the quick brown fox",
            "the quick brown fox jumps over the lazy dog",
            61,
            100,
        ),
        ("xyz", "the quick brown fox", 9, 33), // difflib: (9, 50)
        ("abcdefg", "gfedcba", 14, 14),        // difflib: (14, 25)
        ("hello world", "world hello", 45, 45), // difflib: (45, 62)
        ("test", "testing testing", 42, 100),
        ("ab", "aXb", 80, 50),
        ("axxxxxxx", "ayyyyyyy", 12, 12),
        ("abcxxxxx", "abcyyyyy", 38, 38),
        ("abcdexxx", "abcdeyyy", 62, 62),
        ("abcdefgx", "abcdefgy", 88, 88),
    ];

    #[test]
    fn ratio_matches_python_fuzzywuzzy() {
        for (a, b, expected, _) in PYTHON {
            assert_eq!(ratio(a, b), *expected, "ratio({a:?}, {b:?})");
        }
    }

    #[test]
    fn partial_ratio_matches_python_fuzzywuzzy() {
        for (a, b, _, expected) in PYTHON {
            assert_eq!(
                partial_ratio(a, b),
                *expected,
                "partial_ratio({a:?}, {b:?})"
            );
        }
    }

    #[test]
    fn rounds_the_floating_point_score_as_python_does() {
        // In rationals both score exactly x.5, but in floating point 100 · (1 − 78/80) is
        // 2.5000000000000018 and 100 · (1 − 74/80) is 7.499999999999996: Python says 3 and 7
        // (difflib: 2 and 8).
        let padded =
            |common: &str, fill: &str| format!("{common}{}", fill.repeat(40 - common.len()));
        for (common, expected) in [("a", 3), ("abc", 7)] {
            let (a, b) = (padded(common, "x"), padded(common, "y"));
            assert_eq!((ratio(&a, &b), partial_ratio(&a, &b)), (expected, expected));
        }
        let (a, b) = (
            "abc".to_owned() + &"x".repeat(27),
            "abc".to_owned() + &"y".repeat(47),
        );
        assert_eq!((ratio(&a, &b), partial_ratio(&a, &b)), (7, 10));
    }

    #[test]
    fn matching_blocks_follow_python_levenshtein() {
        // Levenshtein.matching_blocks(Levenshtein.opcodes("spam", "park"), "spam", "park")
        let blocks = matching_blocks(&chars("spam"), &chars("park"));
        let expected = [(1, 0, 2), (4, 4, 0)].map(|(src, dest, len)| Block { src, dest, len });
        assert_eq!(blocks, expected);
    }

    #[test]
    fn strings_at_the_length_limit_match_python_fuzzywuzzy() {
        let a: String = "abcd".repeat(512).chars().take(MAX_CHARS).collect();
        let b: String = "xabdc".repeat(400);
        assert_eq!((a.chars().count(), b.chars().count()), (2047, 2000));
        assert_eq!((ratio(&a, &b), partial_ratio(&a, &b)), (65, 66));
    }

    proptest! {
        #[test]
        fn scores_are_percentages(a in "\\PC{0,24}", b in "\\PC{0,24}") {
            prop_assert!(ratio(&a, &b) <= 100);
            prop_assert!(partial_ratio(&a, &b) <= 100);
        }

        #[test]
        fn ratio_is_symmetric(a in "[ab c]{0,16}", b in "[ab c]{0,16}") {
            prop_assert_eq!(ratio(&a, &b), ratio(&b, &a));
        }

        #[test]
        fn a_string_matches_itself(a in "\\PC{1,24}") {
            prop_assert_eq!(ratio(&a, &a), 100);
            prop_assert_eq!(partial_ratio(&a, &a), 100);
        }
    }
}
