//! The links of a message that get preview cards: its link entities first, then bare
//! `http://` and `https://` addresses in its text, each once, in order.

use crate::model::{Entity, EntityKind};

/// Longest address previewed, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Up to `max` web addresses of a message's text to preview, without duplicates.
pub fn preview_links(text: &str, entities: &[Entity], max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |url: &str| {
        let web = url.starts_with("http://") || url.starts_with("https://");
        if web && url.len() <= MAX_URL_BYTES && out.len() < max && !out.iter().any(|u| u == url) {
            out.push(url.to_owned());
        }
    };
    for e in entities.iter().filter(|e| e.kind == EntityKind::Link) {
        if let Some(url) = e.url.as_deref() {
            push(url);
        }
    }
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')) {
        let Some(start) = word.find("http://").or_else(|| word.find("https://")) else { continue };
        let url = word[start..].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'']);
        if url.len() > "https://".len() {
            push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(url: &str) -> Entity {
        Entity {
            kind: EntityKind::Link,
            offset: 0,
            length: 1,
            user_id: None,
            url: Some(url.into()),
            role_id: None,
            custom_emoji_id: None,
        }
    }

    #[test]
    fn entities_come_first_then_bare_addresses_without_duplicates() {
        let text = "see https://a.example/x, and (https://b.example/y). again https://a.example/x";
        let got = preview_links(text, &[link("https://c.example/")], 5);
        assert_eq!(got, ["https://c.example/", "https://a.example/x", "https://b.example/y"]);
    }

    #[test]
    fn only_web_addresses_and_at_most_max() {
        let got = preview_links("mailto:x@y.z ftp://f http:// https://one.example https://two.example", &[], 1);
        assert_eq!(got, ["https://one.example"]);
        assert!(preview_links("no links here", &[link("mailto:a@b.c")], 3).is_empty());
    }
}
