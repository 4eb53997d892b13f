//! The word-level difference between two wordings of an agreement: what a partner sees under
//! "what changed since you accepted" and in the history, computed once here for every app.

use serde::{Deserialize, Serialize};

/// What happened to a run of words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum WordChange {
    /// In both wordings.
    Kept,
    /// Only in the earlier wording.
    Removed,
    /// Only in the later wording.
    Added,
}

/// A run of consecutive words with the same change, single-spaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WordRun {
    /// The words.
    pub text: String,
    /// Kept, removed or added.
    pub change: WordChange,
}

/// Longer wordings than this many words are shown as removed and added whole (the diff's
/// table grows with the product of both lengths).
const MAX_WORDS: usize = 2_000;

/// The word-level difference from `old` to `new` (the longest common subsequence of words), in
/// reading order; removed words come before the added words that replace them.
pub fn word_diff(old: &str, new: &str) -> Vec<WordRun> {
    let a: Vec<&str> = old.split_whitespace().collect();
    let b: Vec<&str> = new.split_whitespace().collect();
    let mut runs: Vec<WordRun> = Vec::new();
    let mut add = |word: &str, change: WordChange| match runs.last_mut() {
        Some(last) if last.change == change => {
            last.text.push(' ');
            last.text.push_str(word);
        }
        _ => runs.push(WordRun {
            text: word.to_owned(),
            change,
        }),
    };
    if a.len() > MAX_WORDS || b.len() > MAX_WORDS {
        a.iter().for_each(|w| add(w, WordChange::Removed));
        b.iter().for_each(|w| add(w, WordChange::Added));
        return runs;
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let width = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            add(a[i], WordChange::Kept);
            i += 1;
            j += 1;
        } else if i < a.len()
            && (j == b.len() || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])
        {
            add(a[i], WordChange::Removed);
            i += 1;
        } else {
            add(b[j], WordChange::Added);
            j += 1;
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use WordChange::*;

    fn run(text: &str, change: WordChange) -> WordRun {
        WordRun {
            text: text.into(),
            change,
        }
    }

    #[test]
    fn changed_words_are_removed_and_added_the_rest_kept() {
        assert_eq!(
            word_diff(
                "dishes are done before bed",
                "dishes are done by the next morning"
            ),
            vec![
                run("dishes are done", Kept),
                run("before bed", Removed),
                run("by the next morning", Added),
            ]
        );
        assert_eq!(
            word_diff("same words", "same  words\n"),
            vec![run("same words", Kept)]
        );
        assert_eq!(word_diff("", "new"), vec![run("new", Added)]);
        assert_eq!(word_diff("old", ""), vec![run("old", Removed)]);
        assert_eq!(word_diff("", ""), vec![]);
        assert_eq!(
            word_diff("we call before", "we text before"),
            vec![
                run("we", Kept),
                run("call", Removed),
                run("text", Added),
                run("before", Kept)
            ]
        );
    }

    #[test]
    fn very_long_wordings_are_shown_whole_without_a_quadratic_table() {
        let old = "a ".repeat(MAX_WORDS + 1);
        let runs = word_diff(&old, "b");
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].change, Removed);
        assert_eq!(runs[1], run("b", Added));
    }
}
