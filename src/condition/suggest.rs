//! "Did you mean …?" for misspelt keys, action names and functions: the closest candidate by edit
//! distance, offered only when it is close enough to be a plausible typo.

/// The candidate nearest to `input`, if it is within a third of the input's length (at least 1 edit).
pub fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|candidate| (levenshtein(input, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_a_close_candidate() {
        assert_eq!(
            closest("condtion", &["name", "condition", "actions"]),
            Some("condition")
        );
        assert_eq!(closest("webhok", &["webhook", "command"]), Some("webhook"));
    }

    #[test]
    fn stays_quiet_for_unrelated_input() {
        assert_eq!(closest("frobnicate", &["name", "condition"]), None);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }
}
