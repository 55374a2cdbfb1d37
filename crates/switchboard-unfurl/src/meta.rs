//! A page's preview facts from its HTML: OpenGraph (`og:*`) first, then Twitter cards
//! (`twitter:*`), then the plain `<title>` and `description`. Only the document's head
//! is read; the tokenizer decodes character references.

use html5gum::{Token, Tokenizer};
use url::Url;

/// Longest title kept, in characters.
pub const MAX_TITLE: usize = 256;
/// Longest description kept, in characters.
pub const MAX_DESCRIPTION: usize = 1024;
/// Longest site name kept, in characters.
pub const MAX_SITE: usize = 128;

/// What a page says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFacts {
    /// The site's name.
    pub site_name: String,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The image, resolved against the page's address (http or https only).
    pub image: Option<Url>,
}

impl PageFacts {
    /// True when there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.title.is_empty() && self.description.is_empty() && self.image.is_none()
    }
}

#[derive(Default)]
struct Found {
    og_title: Option<String>,
    tw_title: Option<String>,
    title: Option<String>,
    og_description: Option<String>,
    tw_description: Option<String>,
    description: Option<String>,
    site: Option<String>,
    og_image: Option<String>,
    tw_image: Option<String>,
}

/// Reads the facts of the page at `base` from its (possibly truncated) HTML.
pub fn parse(html: &[u8], base: &Url) -> PageFacts {
    let text = String::from_utf8_lossy(html);
    let mut found = Found::default();
    let mut in_title = false;
    let mut title = String::new();
    for token in Tokenizer::new(text.as_ref()).flatten() {
        match token {
            Token::StartTag(tag) => {
                let name = tag.name.to_ascii_lowercase();
                match name.as_slice() {
                    b"title" => in_title = found.title.is_none(),
                    b"body" => break,
                    b"meta" => {
                        let attr = |k: &str| {
                            tag.attributes.get(k.as_bytes()).map(|v| String::from_utf8_lossy(v).trim().to_owned())
                        };
                        let key = attr("property").or_else(|| attr("name")).unwrap_or_default().to_ascii_lowercase();
                        if let Some(content) = attr("content").filter(|c| !c.is_empty()) {
                            found.take(&key, content);
                        }
                    }
                    _ => {}
                }
            }
            Token::String(s) if in_title => title.push_str(&String::from_utf8_lossy(&s)),
            Token::EndTag(tag) => {
                let name = tag.name.to_ascii_lowercase();
                if name == b"title" && in_title {
                    in_title = false;
                    found.title = Some(title.trim().to_owned());
                } else if name == b"head" {
                    break;
                }
            }
            _ => {}
        }
    }
    let image = found
        .og_image
        .or(found.tw_image)
        .and_then(|i| base.join(&i).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    PageFacts {
        site_name: clip(found.site.unwrap_or_default(), MAX_SITE),
        title: clip(found.og_title.or(found.tw_title).or(found.title).unwrap_or_default(), MAX_TITLE),
        description: clip(
            found.og_description.or(found.tw_description).or(found.description).unwrap_or_default(),
            MAX_DESCRIPTION,
        ),
        image,
    }
}

impl Found {
    fn take(&mut self, key: &str, content: String) {
        let slot = match key {
            "og:title" => &mut self.og_title,
            "twitter:title" => &mut self.tw_title,
            "og:description" => &mut self.og_description,
            "twitter:description" => &mut self.tw_description,
            "description" => &mut self.description,
            "og:site_name" => &mut self.site,
            "og:image" | "og:image:url" | "og:image:secure_url" => &mut self.og_image,
            "twitter:image" | "twitter:image:src" => &mut self.tw_image,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(content);
        }
    }
}

/// `s` with its whitespace runs collapsed, cut to `max` characters (an ellipsis marks a cut).
fn clip(s: String, max: usize) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let mut out: String = collapsed.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://news.example/a/b.html").unwrap()
    }

    #[test]
    fn open_graph_wins_over_twitter_and_plain_tags() {
        let html = br#"<!doctype html><html><head>
            <title>Plain &amp; simple</title>
            <meta name="description" content="plain description">
            <meta name="twitter:title" content="Twitter title">
            <meta property="og:title" content="OG &quot;title&quot;">
            <meta property="og:site_name" content="News">
            <meta name="twitter:image" content="/tw.png">
            <meta property="og:image" content="../img/og.png">
            </head><body><meta property="og:description" content="from the body"></body></html>"#;
        let f = parse(html, &base());
        assert_eq!(f.title, "OG \"title\"");
        assert_eq!(f.description, "plain description");
        assert_eq!(f.site_name, "News");
        assert_eq!(f.image.unwrap().as_str(), "https://news.example/img/og.png");
    }

    #[test]
    fn plain_title_and_twitter_cards_fill_in() {
        let html = b"<head><TITLE>  Hello\n  world </TITLE><meta name='twitter:description' content='tw d'>\
            <meta name='twitter:image:src' content='data:image/png;base64,AAAA'></head>";
        let f = parse(html, &base());
        assert_eq!((f.title.as_str(), f.description.as_str()), ("Hello world", "tw d"));
        assert!(f.image.is_none(), "only http(s) images");
        assert!(parse(b"<p>nothing</p>", &base()).is_empty());
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(5000);
        let html = format!("<head><meta property='og:description' content='{long}'></head>");
        let f = parse(html.as_bytes(), &base());
        assert_eq!(f.description.chars().count(), MAX_DESCRIPTION);
        assert!(f.description.ends_with('…'));
    }
}
