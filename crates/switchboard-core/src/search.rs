//! Words for full-text search, the same for every backend: text is folded (lowercase,
//! diacritics removed, compatibility forms unified) and split into runs of letters and
//! digits. The index stores those words; a query is split the same way, so "Éclair" finds
//! "eclair" and "ÉCLAIRS" finds nothing but itself. Snippets are cut from the original text
//! around the words that matched, with their spans to highlight.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::error::ValidationError;

/// Most words a query may have.
pub const MAX_QUERY_WORDS: usize = 10;
/// Longest word of a query, in characters.
pub const MAX_WORD_CHARS: usize = 64;

/// One character folded: its compatibility decomposition without combining marks,
/// lowercased ("É" → "e", "ﬁ" → "fi", "Ⅻ" → "xii").
fn fold_char(c: char, out: &mut String) {
    for d in std::iter::once(c).nfkd() {
        if !is_combining_mark(d) {
            out.extend(d.to_lowercase());
        }
    }
}

/// A word of a text, folded, with where it is in the original (character offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The folded word.
    pub text: String,
    /// Its first character in the original.
    pub start: usize,
    /// One past its last character in the original.
    pub end: usize,
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current: Option<Word> = None;
    let mut folded = String::new();
    for (i, c) in text.chars().enumerate() {
        folded.clear();
        fold_char(c, &mut folded);
        if folded.is_empty() {
            // A combining mark (or a character that folds to nothing) belongs to the word it follows.
            if let Some(w) = &mut current
                && is_combining_mark(c)
            {
                w.end = i + 1;
                continue;
            }
        }
        for f in folded.chars() {
            if f.is_alphanumeric() {
                match &mut current {
                    Some(w) => {
                        w.text.push(f);
                        w.end = i + 1;
                    }
                    None => current = Some(Word { text: f.to_string(), start: i, end: i + 1 }),
                }
            } else if let Some(w) = current.take() {
                out.push(w);
            }
        }
        if folded.is_empty()
            && let Some(w) = current.take()
        {
            out.push(w);
        }
    }
    out.extend(current);
    out
}

/// What the index stores for a text: its folded words separated by spaces.
pub fn index_text(text: &str) -> String {
    let ws = words(text);
    let mut out = String::with_capacity(text.len());
    for (i, w) in ws.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&w.text);
    }
    out
}

/// A parsed query: its folded words; the last one also matches as a prefix ("hel" finds
/// "hello"), so results follow typing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    words: Vec<String>,
}

impl Query {
    /// Parses what someone typed.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let mut words: Vec<String> = words(s).into_iter().map(|w| w.text).collect();
        if words.is_empty() {
            return Err(ValidationError::new("query", "give at least one word (letters or digits)"));
        }
        if words.len() > MAX_QUERY_WORDS {
            return Err(ValidationError::new("query", format!("at most {MAX_QUERY_WORDS} words")));
        }
        if words.iter().any(|w| w.chars().count() > MAX_WORD_CHARS) {
            return Err(ValidationError::new("query", format!("words are at most {MAX_WORD_CHARS} characters")));
        }
        let mut seen = std::collections::HashSet::new();
        let last = words.pop();
        words.retain(|w| seen.insert(w.clone()));
        words.extend(last);
        Ok(Self { words })
    }

    /// The words; the last one is the prefix.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether a word of a text matches one of the query's.
    pub fn matches(&self, word: &str) -> bool {
        let n = self.words.len();
        self.words.iter().enumerate().any(|(i, q)| word == q || (i + 1 == n && word.starts_with(q.as_str())))
    }
}

/// A piece of a message's text around what matched, and the spans to highlight in it
/// (character offsets into the snippet).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    /// The text: the whole message when short, else a window with "…" where cut.
    pub text: String,
    /// (offset, length) of each matching word in `text`.
    pub highlights: Vec<(usize, usize)>,
}

/// The snippet of `text` for `query`, at most about `max_chars` characters.
pub fn snippet(text: &str, query: &Query, max_chars: usize) -> Snippet {
    let chars: Vec<char> = text.chars().collect();
    let hits: Vec<Word> = words(text).into_iter().filter(|w| query.matches(&w.text)).collect();
    let (mut from, mut to) = (0, chars.len());
    if chars.len() > max_chars {
        let first = hits.first().map_or(0, |w| w.start);
        // Some context before the first match, the rest after it; on word boundaries.
        from = first.saturating_sub(max_chars / 4);
        while from > 0 && !chars[from - 1].is_whitespace() && first - from < max_chars / 2 {
            from -= 1;
        }
        to = (from + max_chars).min(chars.len());
        while to < chars.len() && to > from + max_chars / 2 && !chars[to].is_whitespace() {
            to -= 1;
        }
    }
    let lead = if from > 0 { "…" } else { "" };
    let mut out = Snippet { text: lead.to_owned(), highlights: Vec::new() };
    out.text.extend(chars[from..to].iter());
    if to < chars.len() {
        out.text.push('…');
    }
    let shift = lead.chars().count();
    for w in hits.iter().filter(|w| w.start >= from && w.end <= to) {
        out.highlights.push((w.start - from + shift, w.end - w.start));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        words(s).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_are_folded_and_split_on_anything_but_letters_and_digits() {
        assert_eq!(texts("Crème Brûlée, s'il-vous-plaît!"), ["creme", "brulee", "s", "il", "vous", "plait"]);
        assert_eq!(texts("ÉCLAIR éclair eclair"), ["eclair", "eclair", "eclair"]);
        assert_eq!(texts("Straße İstanbul"), ["straße", "istanbul"]);
        assert_eq!(texts("ﬁne Ⅻ 42x"), ["fine", "xii", "42x"]);
        assert_eq!(texts("привет, Мир"), ["привет", "мир"]);
        assert_eq!(texts("  --  "), Vec::<String>::new());
        // A decomposed accent stays inside its word and spans the original characters.
        let w = words("cafe\u{301} ok");
        assert_eq!((w[0].text.as_str(), w[0].start, w[0].end), ("cafe", 0, 5));
        assert_eq!((w[1].start, w[1].end), (6, 8));
        assert_eq!(index_text("Hello, Wörld"), "hello world");
    }

    #[test]
    fn queries_have_words_and_a_prefix() {
        let q = Query::parse("Meet  CAFÉ caf").unwrap();
        assert_eq!(q.words(), ["meet", "cafe", "caf"]);
        assert!(q.matches("cafeteria") && q.matches("meet") && !q.matches("meeting"));
        assert!(Query::parse(" ,.- ").is_err());
        assert!(Query::parse(&"w ".repeat(11)).is_err());
        assert!(Query::parse(&"x".repeat(65)).is_err());
        assert_eq!(Query::parse("a a b").unwrap().words(), ["a", "b"]);
    }

    #[test]
    fn snippets_cut_around_the_first_match_and_mark_every_match() {
        let q = Query::parse("brûlée").unwrap();
        let s = snippet("Crème BRULÉE tonight", &q, 100);
        assert_eq!((s.text.as_str(), s.highlights.as_slice()), ("Crème BRULÉE tonight", &[(6, 6)][..]));
        let long = format!("{} the needle is here {}", "hay ".repeat(50), "straw ".repeat(50));
        let s = snippet(&long, &Query::parse("needle").unwrap(), 60);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'), "{}", s.text);
        assert!(s.text.chars().count() <= 62);
        let (at, len) = s.highlights[0];
        assert_eq!(s.text.chars().skip(at).take(len).collect::<String>(), "needle");
        let none = snippet("nothing matches", &Query::parse("zebra").unwrap(), 100);
        assert!(none.highlights.is_empty());
    }
}
